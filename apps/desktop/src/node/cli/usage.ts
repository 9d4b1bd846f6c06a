/** The command line's help text. */
export const USAGE = `usage: aerie [--home DIR] <command> [options]

  ca init --org NAME --user EMAIL [--name DEVICE] [--listen ADDR] [--passphrase-file F]
                              make this device the organisation's CA holder
  invite --user EMAIL [--name DEVICE] [--expires 24h] [--address ADDR]...
                              make a one-time enrollment code (CA holder)
  enroll CODE [--name DEVICE] [--ca ADDR] [--listen ADDR]
                              join the organisation with a code
  id [--json]                 this device's id, peer id and addresses
  devices [--json]            the organisation's devices (CA holder)
  revoke DEVICE [--passphrase-file F]
                              revoke a device everywhere (CA holder)
  peer add DEVICE ADDR        connect to a device at a fixed address
  config                      this device's settings: name, LAN-only mode, bandwidth limits, free space kept
  config lan-only on|off      connect only to and from local-network addresses (private, link-local,
                              loopback); a team server on a public address is then out of reach
  config upload-limit RATE / config download-limit RATE
                              limit chunk traffic to / from peers, e.g. 2M (bytes/s, binary units), or off
  config min-free PERCENT     the share of each disk a pull keeps free (default 1%); a file that would take it waits
  config name NAME            what this agent calls itself (its certificate keeps the enrolled name)
  folder add PATH [--id ID] [--label L]
                              sync a directory (scanned now and every minute)
  folder share ID (DEVICE | --user EMAIL) [--role editor|viewer]
                              let another device, or every device of a user, sync the folder (owner only)
  folder unshare ID (DEVICE | --user EMAIL)
                              stop sharing the folder (owner only)
  folder remove ID            stop syncing a folder (deletes nothing)
  folder confirm ID           the files a scan misses really are gone: record it
  folder rescan ID            scan a folder now (the watcher and a rescan every minute do it anyway)
  folder pause ID / folder resume ID
                              stop / start scanning and fetching a folder (kept across restarts)
  folder retention ID [--keep N] [--days D]
                              how many old versions of each file the folder keeps, and how long
                              (default 10, 30 days; --days 0: however old); without flags, shows it
  versions PATH [--json]      the old versions the sync kept of a file (or of every file under a
                              directory), even one deleted since; PATH is on disk in a synced folder
  versions restore PATH --at TIME
                              bring back the file as it was at TIME: 2026-11-22T10:15:00[+01:00]
                              (local unless zoned), 20261122-101500 (UTC, as in version names),
                              10m / 2h / 3d ago, or now; it syncs as a new change
  share create PATH [--expires 7d] [--password] [--max-downloads N] [--upload-only [--max-upload 1G]] [--snapshot]
                              a public link to a file or directory, made by the team server
                              (the URL is the last line); --password asks, or AERIE_SHARE_PASSWORD
  share list [--json]         your share links, their state and downloads
  share revoke ID             stop a link at once
  backup add PATH | remove PATH | exclude GLOB | schedule 1h|off | show
                              this device's backup set (config.json): paths, gitignore-style excludes, how often
  backup run [--json]         back up now to the team server (through the running agent), with progress
  restore list [--json]       this device's snapshots on the team server
  restore browse SNAPSHOT [PATH] [--json]
                              a directory of a snapshot; SNAPSHOT is an id (or a prefix of one) or latest
  restore SNAPSHOT [PATH] --to DIR [--overwrite]
                              restore a file, a directory or everything into DIR, byte for byte with modes
                              and mtimes; existing files are left alone unless --overwrite
  run [--listen ADDR]... [--no-mdns]
                              run the agent in the foreground
  status [--json]             ask the running agent how it is
  ui                          the link that opens the running agent's UI in a browser
  stop                        stop the running agent (as Ctrl-C does)

  --home DIR (or AERIE_HOME) selects the device's state directory (default ~/.aerie).
  AERIE_CA_PASSPHRASE gives the CA passphrase without a prompt.`
