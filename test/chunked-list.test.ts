import assert from 'node:assert/strict';
import { ChunkedJsonList } from '../src/signals/chunked-list.js';

describe('ChunkedJsonList (cached JSON array rendering)', () => {
  it('renders exactly the JSON array of its items, in insertion order, across random sets, deletes and shifts', () => {
    const list = new ChunkedJsonList();
    const model = new Map<string, { id: string; v: number }>();
    let seed = 7;
    const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
    for (let step = 0; step < 5000; step++) {
      const id = `t${rnd(1500)}`;
      const op = rnd(10);
      if (op < 6) {
        const item = { id, v: step };
        if (!model.has(id)) model.set(id, item); else model.set(id, item); // replace keeps position
        list.set(id, JSON.stringify(item));
      } else if (op < 9) {
        model.delete(id);
        list.delete(id);
      } else {
        const first = model.keys().next().value;
        assert.equal(list.shift(), first);
        if (first !== undefined) model.delete(first);
      }
      if (step % 250 === 0 || step === 4999) {
        assert.deepEqual(JSON.parse(list.render().toString()), [...model.values()]);
        assert.equal(list.size, model.size);
      }
    }
  });

  it('renders an empty list as []', () => {
    assert.deepEqual(JSON.parse(new ChunkedJsonList().render().toString()), []);
  });
});
