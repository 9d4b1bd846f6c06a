import { DatabaseSync } from 'node:sqlite'
import { inTransaction, migrateSchema } from '@aerie/core'
import { ConflictError } from '../accounts/errors.ts'
import { shareStore, SHARE_SCHEMA } from './share-store.ts'
import { backupStore, BACKUP_ADMIN_SCHEMA, BACKUP_SCHEMA } from './backup-store.ts'
import { date, optionalDate, optionalText, text } from './sqlite-rows.ts'
import type { Row } from './sqlite-rows.ts'
import { GENESIS_HASH } from './stores.ts'
import type {
  AccountStore, ApiTokenRecord, ApiTokenStore, AuditRecord, AuditStore, LoginFailureStore, Role, ServerMetadata,
  SessionRecord, SessionStore, UserRecord
} from './stores.ts'

// Version 2 added share links (SHARE_SCHEMA), version 3 backup snapshots (BACKUP_SCHEMA), version 4
// backup retention, holds, restore grants and scrubs (BACKUP_ADMIN_SCHEMA); an older database is
// brought up to date on open.
const SCHEMA_VERSION = 4
const SCHEMA = `
  CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
  CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'user')),
    password_hash TEXT NOT NULL,
    totp_secret TEXT,
    totp_pending_secret TEXT,
    totp_last_step INTEGER,
    created_at INTEGER NOT NULL,
    disabled_at INTEGER
  ) STRICT;
  CREATE TABLE recovery_codes (
    user_id TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    used_at INTEGER,
    PRIMARY KEY (user_id, code_hash)
  ) STRICT;
  CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    address TEXT NOT NULL
  ) STRICT;
  CREATE INDEX sessions_by_user ON sessions (user_id);
  CREATE TABLE login_tickets (ticket_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, expires_at INTEGER NOT NULL) STRICT;
  CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER
  ) STRICT;
  CREATE TABLE login_failures (key TEXT NOT NULL, at INTEGER NOT NULL) STRICT;
  CREATE INDEX login_failures_by_key ON login_failures (key, at);
  CREATE TABLE lockouts (key TEXT PRIMARY KEY, until INTEGER NOT NULL) STRICT;
  CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL,
    address TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  ) STRICT;
  CREATE INDEX audit_by_action ON audit_log (action, seq);
  CREATE INDEX audit_by_actor ON audit_log (actor, seq);
  CREATE TABLE audit_head (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL) STRICT;
  -- Append-only for everything that goes through SQLite's front door; the hash chain catches the rest.
  CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
  CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
` + SHARE_SCHEMA + BACKUP_SCHEMA + BACKUP_ADMIN_SCHEMA

// Each step takes a database from the version before it to its own; it runs under the write lock.
const UPGRADES: Record<number, string> = { 2: SHARE_SCHEMA, 3: BACKUP_SCHEMA, 4: BACKUP_ADMIN_SCHEMA }

/**
 * Opens (creating if needed) the team server's metadata database: one node:sqlite file in WAL
 * mode holding accounts, sessions, API tokens, login failures, the audit log and share links.
 */
export function openServerMetadata (path: string): ServerMetadata {
  const db = new DatabaseSync(path)
  try {
    db.exec('PRAGMA busy_timeout = 5000')
    db.exec('PRAGMA journal_mode = WAL')
    db.exec('PRAGMA foreign_keys = ON')
    migrateSchema(db, { schema: SCHEMA, version: SCHEMA_VERSION, what: "team server's metadata database" })
    upgradeSchema(db)
  } catch (err) {
    db.close()
    throw err
  }
  return {
    accounts: accountStore(db),
    sessions: sessionStore(db),
    apiTokens: apiTokenStore(db),
    loginFailures: loginFailureStore(db),
    audit: auditStore(db),
    shares: shareStore(db),
    backups: backupStore(db),
    close: () => { if (db.isOpen) db.close() }
  }
}


/**
 * migrateSchema creates a new database at SCHEMA_VERSION but leaves an older one as it is:
 * bring that one up step by step, re-reading the version inside the write lock (another
 * process may have just done it).
 */
function upgradeSchema (db: DatabaseSync): void {
  const version = (): number => Number(db.prepare('PRAGMA user_version').get()?.user_version ?? 0)
  if (version() === SCHEMA_VERSION) return
  inTransaction(db, () => {
    for (let next = version() + 1; next <= SCHEMA_VERSION; next++) {
      db.exec(UPGRADES[next]!)
      db.exec(`PRAGMA user_version = ${next}`)
    }
  })
}

function accountStore (db: DatabaseSync): AccountStore {
  const s = {
    insert: db.prepare('INSERT INTO users (id, email, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?)'),
    byId: db.prepare('SELECT * FROM users WHERE id = ?'),
    byEmail: db.prepare('SELECT * FROM users WHERE email = ?'),
    all: db.prepare('SELECT * FROM users ORDER BY created_at, email'),
    admins: db.prepare("SELECT count(*) AS n FROM users WHERE role = 'admin'"),
    disable: db.prepare('UPDATE users SET disabled_at = ? WHERE id = ?'),
    password: db.prepare('UPDATE users SET password_hash = ? WHERE id = ?'),
    totp: db.prepare('UPDATE users SET totp_secret = ?, totp_pending_secret = ? WHERE id = ?'),
    step: db.prepare('UPDATE users SET totp_last_step = ? WHERE id = ? AND (totp_last_step IS NULL OR totp_last_step < ?)'),
    clearCodes: db.prepare('DELETE FROM recovery_codes WHERE user_id = ?'),
    addCode: db.prepare('INSERT OR IGNORE INTO recovery_codes (user_id, code_hash) VALUES (?, ?)'),
    useCode: db.prepare('UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL'),
    codesLeft: db.prepare('SELECT count(*) AS n FROM recovery_codes WHERE user_id = ? AND used_at IS NULL'),
    getSetting: db.prepare('SELECT value FROM settings WHERE name = ?'),
    setSetting: db.prepare('INSERT OR IGNORE INTO settings (name, value) VALUES (?, ?)')
  }
  const user = (row: Row | undefined): UserRecord | undefined => row === undefined
    ? undefined
    : {
        id: text(row.id),
        email: text(row.email),
        role: text(row.role) as Role,
        passwordHash: text(row.password_hash),
        ...(row.totp_secret === null ? {} : { totpSecret: text(row.totp_secret) }),
        ...(row.totp_pending_secret === null ? {} : { totpPendingSecret: text(row.totp_pending_secret) }),
        createdAt: date(row.created_at),
        ...(row.disabled_at === null ? {} : { disabledAt: date(row.disabled_at) })
      }
  return {
    createUser ({ id, email, role, passwordHash, createdAt }) {
      try {
        s.insert.run(id, email, role, passwordHash, createdAt.getTime())
      } catch (err) {
        if (s.byEmail.get(email) !== undefined) throw new ConflictError(`a user with the email ${email} already exists`, { cause: err })
        throw err
      }
      return user(s.byId.get(id))!
    },
    userById: id => user(s.byId.get(id)),
    userByEmail: email => user(s.byEmail.get(email)),
    listUsers: () => s.all.all().map(row => user(row)!),
    countAdmins: () => Number(s.admins.get()?.n ?? 0),
    setDisabled (id, at) { s.disable.run(at?.getTime() ?? null, id) },
    setPasswordHash (id, passwordHash) { s.password.run(passwordHash, id) },
    setTotp (id, { secret, pendingSecret }) { s.totp.run(secret ?? null, pendingSecret ?? null, id) },
    useTotpStep: (id, step) => Number(s.step.run(step, id, step).changes) === 1,
    replaceRecoveryCodes (userId, codeHashes) {
      inTransaction(db, () => {
        s.clearCodes.run(userId)
        for (const hash of codeHashes) s.addCode.run(userId, hash)
      })
    },
    useRecoveryCode: (userId, codeHash, at) => Number(s.useCode.run(at.getTime(), userId, codeHash).changes) === 1,
    recoveryCodesLeft: userId => Number(s.codesLeft.get(userId)?.n ?? 0),
    getSetting: name => optionalText(s.getSetting.get(name)?.value),
    setSettingOnce: (name, value) => Number(s.setSetting.run(name, value).changes) === 1
  }
}

function sessionStore (db: DatabaseSync): SessionStore {
  const s = {
    insert: db.prepare(`INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, address)
      VALUES (?, ?, ?, ?, ?, ?, ?)`),
    get: db.prepare('SELECT * FROM sessions WHERE id_hash = ?'),
    touch: db.prepare('UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?'),
    delete: db.prepare('DELETE FROM sessions WHERE id_hash = ?'),
    deleteUser: db.prepare('DELETE FROM sessions WHERE user_id = ?'),
    deleteExpired: db.prepare('DELETE FROM sessions WHERE expires_at <= ?'),
    deleteExpiredTickets: db.prepare('DELETE FROM login_tickets WHERE expires_at <= ?'),
    insertTicket: db.prepare('INSERT INTO login_tickets (ticket_hash, user_id, expires_at) VALUES (?, ?, ?)'),
    ticket: db.prepare('SELECT * FROM login_tickets WHERE ticket_hash = ?'),
    deleteTicket: db.prepare('DELETE FROM login_tickets WHERE ticket_hash = ?')
  }
  return {
    createSession (session: SessionRecord) {
      s.insert.run(session.idHash, session.userId, session.csrfToken, session.createdAt.getTime(), session.lastSeenAt.getTime(),
        session.expiresAt.getTime(), session.address)
    },
    session (idHash) {
      const row = s.get.get(idHash)
      if (row === undefined) return undefined
      return {
        idHash: text(row.id_hash),
        userId: text(row.user_id),
        csrfToken: text(row.csrf_token),
        createdAt: date(row.created_at),
        lastSeenAt: date(row.last_seen_at),
        expiresAt: date(row.expires_at),
        address: text(row.address)
      }
    },
    touchSession (idHash, at) { s.touch.run(at.getTime(), idHash) },
    deleteSession (idHash) { s.delete.run(idHash) },
    deleteUserSessions (userId) { s.deleteUser.run(userId) },
    deleteExpiredSessions (now) {
      s.deleteExpired.run(now.getTime())
      s.deleteExpiredTickets.run(now.getTime())
    },
    createTicket ({ ticketHash, userId, expiresAt }) { s.insertTicket.run(ticketHash, userId, expiresAt.getTime()) },
    ticket (ticketHash) {
      const row = s.ticket.get(ticketHash)
      return row === undefined ? undefined : { ticketHash: text(row.ticket_hash), userId: text(row.user_id), expiresAt: date(row.expires_at) }
    },
    deleteTicket (ticketHash) { s.deleteTicket.run(ticketHash) }
  }
}

function apiTokenStore (db: DatabaseSync): ApiTokenStore {
  const s = {
    insert: db.prepare('INSERT INTO api_tokens (id, user_id, name, token_hash, created_at) VALUES (?, ?, ?, ?, ?)'),
    byHash: db.prepare('SELECT * FROM api_tokens WHERE token_hash = ?'),
    byId: db.prepare('SELECT * FROM api_tokens WHERE id = ?'),
    all: db.prepare('SELECT * FROM api_tokens ORDER BY created_at, id'),
    ofUser: db.prepare('SELECT * FROM api_tokens WHERE user_id = ? ORDER BY created_at, id'),
    revoke: db.prepare('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
    touch: db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?')
  }
  const token = (row: Row | undefined): ApiTokenRecord | undefined => row === undefined
    ? undefined
    : {
        id: text(row.id),
        userId: text(row.user_id),
        name: text(row.name),
        tokenHash: text(row.token_hash),
        createdAt: date(row.created_at),
        ...(row.last_used_at === null ? {} : { lastUsedAt: date(row.last_used_at) }),
        ...(row.revoked_at === null ? {} : { revokedAt: date(row.revoked_at) })
      }
  return {
    createToken ({ id, userId, name, tokenHash, createdAt }) {
      s.insert.run(id, userId, name, tokenHash, createdAt.getTime())
      return token(s.byId.get(id))!
    },
    tokenByHash: hash => token(s.byHash.get(hash)),
    tokenById: id => token(s.byId.get(id)),
    listTokens: userId => (userId === undefined ? s.all.all() : s.ofUser.all(userId)).map(row => token(row)!),
    revokeToken: (id, at) => Number(s.revoke.run(at.getTime(), id).changes) === 1,
    touchToken (id, at) { s.touch.run(at.getTime(), id) }
  }
}

function loginFailureStore (db: DatabaseSync): LoginFailureStore {
  const s = {
    insert: db.prepare('INSERT INTO login_failures (key, at) VALUES (?, ?)'),
    count: db.prepare('SELECT count(*) AS n FROM login_failures WHERE key = ? AND at > ?'),
    clear: db.prepare('DELETE FROM login_failures WHERE key = ?'),
    lock: db.prepare('INSERT INTO lockouts (key, until) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET until = max(until, excluded.until)'),
    locked: db.prepare('SELECT until FROM lockouts WHERE key = ?'),
    pruneFailures: db.prepare('DELETE FROM login_failures WHERE at < ?'),
    pruneLocks: db.prepare('DELETE FROM lockouts WHERE until < ?')
  }
  return {
    recordFailure (key, at) { s.insert.run(key, at.getTime()) },
    failuresSince: (key, since) => Number(s.count.get(key, since.getTime())?.n ?? 0),
    clearFailures (key) { s.clear.run(key) },
    lock (key, until) { s.lock.run(key, until.getTime()) },
    lockedUntil: key => optionalDate(s.locked.get(key)?.until),
    prune (before) {
      s.pruneFailures.run(before.getTime())
      s.pruneLocks.run(before.getTime())
    }
  }
}

function auditStore (db: DatabaseSync): AuditStore {
  const s = {
    last: db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1'),
    insert: db.prepare(`INSERT INTO audit_log (seq, time, actor, action, target, detail, address, prev_hash, hash)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    setHead: db.prepare('INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash'),
    head: db.prepare('SELECT seq, hash FROM audit_head WHERE id = 1'),
    all: db.prepare('SELECT * FROM audit_log ORDER BY seq')
  }
  const record = (row: Row): AuditRecord => ({
    seq: Number(row.seq),
    time: text(row.time),
    actor: text(row.actor),
    action: text(row.action),
    target: text(row.target),
    detail: parseDetail(text(row.detail)),
    address: text(row.address),
    prevHash: text(row.prev_hash),
    hash: text(row.hash)
  })
  return {
    append (entry, chain) {
      return inTransaction(db, () => {
        const row = s.last.get()
        const last = row === undefined ? { seq: 0, hash: GENESIS_HASH } : { seq: Number(row.seq), hash: text(row.hash) }
        const hash = chain(last)
        const seq = last.seq + 1
        s.insert.run(seq, entry.time, entry.actor, entry.action, entry.target, JSON.stringify(entry.detail), entry.address, last.hash, hash)
        s.setHead.run(seq, hash)
        return { ...entry, seq, prevHash: last.hash, hash }
      })
    },
    list ({ action, actor, since, until, beforeSeq, limit }) {
      const where: string[] = []
      const args: Array<string | number> = []
      if (action !== undefined) { where.push('action = ?'); args.push(action) }
      if (actor !== undefined) { where.push('actor = ?'); args.push(actor) }
      if (since !== undefined) { where.push('time >= ?'); args.push(since.toISOString()) }
      if (until !== undefined) { where.push('time <= ?'); args.push(until.toISOString()) }
      if (beforeSeq !== undefined) { where.push('seq < ?'); args.push(beforeSeq) }
      const sql = `SELECT * FROM audit_log ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`} ORDER BY seq DESC LIMIT ?`
      return db.prepare(sql).all(...args, limit).map(record)
    },
    * entries () {
      for (const row of s.all.iterate()) yield record(row)
    },
    head () {
      const row = s.head.get()
      return row === undefined ? { seq: 0, hash: GENESIS_HASH } : { seq: Number(row.seq), hash: text(row.hash) }
    }
  }
}

// A detail that does not parse is kept visible (and its hash will not match), not thrown away.
function parseDetail (json: string): AuditRecord['detail'] {
  try {
    const value: unknown = JSON.parse(json)
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as AuditRecord['detail']
  } catch {}
  return { unreadable: json }
}
