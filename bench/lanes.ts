/** The closed-loop load every bench uses: `concurrency` lanes, each running `op` back to back. */

/** Runs `op` on `concurrency` lanes for `durationMs`; pushes each call's latency (ms) to `times`. */
export async function runLanes(durationMs: number, concurrency: number, op: () => Promise<unknown>, times: number[]): Promise<{ perS: number; ops: number }> {
  const start = performance.now();
  const deadline = start + durationMs;
  let ops = 0;
  const lane = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      await op();
      times.push(performance.now() - t0);
      ops++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { perS: ops / ((performance.now() - start) / 1000), ops };
}
