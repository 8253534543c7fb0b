// The equity curve as the chart draws it. The chart (Lightweight Charts) needs strictly increasing whole
// seconds, so trades closed in the same second become one point: the equity after the last of them, at
// that second. Nothing is moved to a later second (spreading them by a second each used to shift the
// curve to the right of the real closes). The curve starts at 100 at the first signal, or one second
// before the first close when that is earlier.
export function equityData(points, start) {
  const data = [];
  for (const p of points) {
    const time = Math.floor(Date.parse(p.time) / 1000);
    if (data.length && data.at(-1).time >= time) data.at(-1).value = p.equity;
    else data.push({ time, value: p.equity });
  }
  if (!data.length) return [];
  const startSec = Math.floor(Date.parse(start ?? points[0].time) / 1000);
  const t0 = Number.isFinite(startSec) ? Math.min(data[0].time - 1, startSec) : data[0].time - 1;
  return [{ time: t0, value: 100 }, ...data];
}
