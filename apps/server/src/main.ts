// The team server (`npm start`) is the next milestone: see docs/status.md.
// Until it exists, say so plainly instead of failing with a missing-module stack trace.
process.stderr.write('aerie: the team server is not built yet (see docs/status.md). To run a device agent now: npx aerie run\n')
process.exitCode = 1
