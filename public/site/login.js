// Log in or register (same form; /register adds the account type). Stores the token, then goes on.
import { api, header, say, session, el, $ } from './common.js';

header();
const registering = location.pathname === '/register';
const next = sameOriginTarget(new URLSearchParams(location.search).get('next'));

/**
 * Where to go after signing in: `next` only when it resolves to this origin, else '/'. Resolved by the
 * browser's own URL parser, so "/\\evil.example", "/%09/evil.example" and "/.//evil.example" (which it
 * reads as other hosts or as a path starting "//") come back as full same-origin URLs or '/'.
 */
function sameOriginTarget(raw) {
  if (!raw || !raw.startsWith('/')) return '/';
  try {
    const url = new URL(raw, location.origin);
    return url.origin === location.origin ? url.href : '/';
  } catch {
    return '/';
  }
}
if (registering) {
  $('#title').textContent = 'Create an account';
  $('#role-row').hidden = false;
  $('#submit').textContent = 'Register';
  $('#password').autocomplete = 'new-password';
  document.title = 'Register · Signal Marketplace';
}
$('#switch').replaceChildren(registering ? el('a', { href: '/login' }, 'Have an account? Log in') : el('a', { href: '/register' }, 'New here? Register'));

$('#auth').addEventListener('submit', async (e) => {
  e.preventDefault();
  const body = { email: $('#email').value, password: $('#password').value };
  if (registering) body.role = $('#role').value;
  try {
    const r = await api('POST', registering ? '/api/auth/register' : '/api/auth/login', body);
    session.save(r.token, r.user);
    location.href = next;
  } catch (err) {
    say($('#msg'), err.message, false);
  }
});
