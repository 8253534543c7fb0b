/** Fake venue servers in a mocha suite. */

/** Registers before/after hooks in the calling describe: the fakes listen (see their `origin`) and stop after. */
export function serve(...fakes: { start(): Promise<string>; stop(): Promise<void> }[]): void {
  before(async () => { for (const fake of fakes) await fake.start(); });
  after(async () => { await Promise.all(fakes.map((fake) => fake.stop())); });
}
