// Loaded with --import into a plain Node child: gives it Electron's `process.parentPort`
// over Node's IPC channel, so the agent's utility-process entry runs as Electron would run it.
const shimmed = process as unknown as { parentPort: { on(event: string, listener: (event: { data: unknown }) => void): void } }
shimmed.parentPort = {
  on (event, listener) {
    if (event === 'message') process.on('message', (data) => { listener({ data }) })
  }
}
