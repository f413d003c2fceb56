// The servers of the revocation part of the bench: two auth replicas (the production start) on one
// fresh PostgreSQL schema with one key ring, the HTTP calls a user makes to them, and a TCP proxy
// whose connections the bench can cut, as a network blip does.
import { randomUUID } from 'node:crypto'
import { connect, createServer, type Socket } from 'node:net'
import { ensureKeyFiles } from '../../plugins/issuer/key-files.js'
import { createDatabase } from '../../services/auth/store/database.js'
import { createRevocationRepository } from '../../services/auth/store/revocations.js'
import { createSchema } from '../postgres-schema.js'
import { startProduction, type ProductionChild } from './production.js'
import { freeLoopbackPort } from './targets.js'

const BASE_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const JSON_HEADERS = { 'content-type': 'application/json' }
// What every replica puts in `iss`: the one public address a load balancer would have.
export const REPLICA_ISSUER = 'http://auth.bench.invalid'

/** A DATABASE_URL on a new schema of TEST_DATABASE_URL's database, and how to drop it. */
export function freshSchema (): Promise<{ url: string, drop: () => Promise<void> }> {
  return createSchema(BASE_DATABASE_URL, 'bench')
}

export interface Replica {
  name: string
  url: string
  /** False from the SIGTERM of a restart until the new process answers. */
  up: boolean
  /** SIGTERM, wait for the exit, run `whileDown`, start again on the same port. */
  restart: (whileDown?: () => Promise<void>) => Promise<void>
  close: () => Promise<void>
}

/** One auth replica, compiled, at default settings but for the shared database, key ring and issuer. */
export async function startReplica (name: string, env: Record<string, string>, logDir: string): Promise<Replica> {
  let child: ProductionChild = await startProduction(name, 'auth', env, logDir)
  const port = new URL(child.url).port
  const replica: Replica = {
    name,
    url: child.url,
    up: true,
    async restart (whileDown) {
      replica.up = false
      await child.close()
      await whileDown?.()
      child = await startProduction(name, 'auth', { ...env, AUTH_PORT: port }, logDir)
      replica.up = true
    },
    close: () => child.close()
  }
  return replica
}

/** The environment the replicas share: database, key ring (one KEYS_DIR), issuer, a user. */
export async function replicaEnv (databaseUrl: string, keysDir: string, user: { username: string, password: string }) {
  await ensureKeyFiles(keysDir)
  return { DATABASE_URL: databaseUrl, KEYS_DIR: keysDir, ISSUER_URL: REPLICA_ISSUER, DEMO_USERNAME: user.username, DEMO_PASSWORD: user.password }
}

/** `count` sessions revoked in one transaction, through the store as the services write them. */
export async function revokeRandomSessions (databaseUrl: string, count: number): Promise<void> {
  const db = createDatabase({ url: databaseUrl })
  try {
    const revocations = createRevocationRepository(db, { accessTokenTtl: 15 * 60 })
    await revocations.transaction((trx) => revocations.revokeSessions(trx, Array.from({ length: count }, () => randomUUID())))
  } finally {
    await db.destroy()
  }
}

export interface Session { access_token: string, refresh_token: string }

export async function login (replica: Pick<Replica, 'url'>, user: { username: string, password: string }): Promise<Session> {
  const response = await fetch(`${replica.url}/auth/login`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(user) })
  if (response.status !== 200) throw new Error(`bench: login at ${replica.url} answered ${response.status} ${await response.text()}`)
  return await response.json() as Session
}

/** POST /auth/logout; throws on a connection failure (the replica is down) or an answer but 204. */
export async function logout (replica: Pick<Replica, 'url'>, session: Session): Promise<void> {
  const response = await fetch(`${replica.url}/auth/logout`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ refresh_token: session.refresh_token }) })
  await response.arrayBuffer()
  if (response.status !== 204) throw new Error(`bench: logout at ${replica.url} answered ${response.status}`)
}

/**
 * A TCP proxy to `target` (host:port): a verifier following a feed through it loses its
 * connection when `cut()` is called, and reconnects through it.
 */
export async function cuttableProxy (target: string): Promise<{ url: string, cut: () => number, close: () => Promise<void> }> {
  const { hostname, port } = new URL(target)
  const sockets = new Set<Socket>()
  const track = (socket: Socket, other: Socket) => {
    sockets.add(socket)
    socket.on('error', () => {}).on('close', () => { sockets.delete(socket); other.destroy() })
  }
  const server = createServer((client) => {
    const upstream = connect(Number(port), hostname)
    track(client, upstream)
    track(upstream, client)
    client.pipe(upstream).pipe(client)
  })
  const listenPort = await freeLoopbackPort()
  await new Promise<void>((resolve) => server.listen(listenPort, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${listenPort}`,
    cut () {
      const open = sockets.size / 2
      for (const socket of sockets) socket.destroy()
      return open
    },
    close: () => new Promise((resolve) => {
      for (const socket of sockets) socket.destroy()
      server.close(() => resolve())
    })
  }
}
