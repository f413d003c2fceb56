// Keeps the running service's key ring in step with its key store, without a restart.
//
// Why polling: every few seconds we ask the store for its version (for files, keyring.json, a few
// hundred bytes; for the database, the kids and states) and reload only when it changed. fs.watch misses renames on some platforms and on network or container volumes
// (Kubernetes swaps mounted secrets through a symlink), and SIGHUP needs whoever rotates to find
// and signal every process; a poll works on any filesystem, for any number of replicas reading
// the folder. Key files are written before the manifest that names them, so a changed manifest
// means the whole new ring is on disk. A bad file never replaces a good ring: the service keeps
// signing and publishing with the keys it had, logs the file once, and retries on every poll.
// Each poll reloads before it considers automatic rotation, so a replica that shares its store
// with others decides on the ring as it is now, not as it was one poll ago.
import type { FastifyBaseLogger } from 'fastify'
import type { KeyRecord } from './key-files.js'
import type { KeyRing } from './key-ring.js'
import { activeKeyAge, type RotationResult } from './key-rotation.js'
import type { KeyStore } from './key-store.js'
import type { KeyTiming } from './key-timing.js'

export interface KeyReloaderOptions {
  keyStore: KeyStore
  keyRing: KeyRing
  /** The store version the ring was loaded at. */
  loadedVersion: string
  log: FastifyBaseLogger
  /** Seconds between polls; 0 turns polling (and automatic rotation) off. */
  reloadInterval: number
  /** Seconds an active key signs before automatic rotation; undefined: never. */
  rotationInterval?: number
  timing: KeyTiming
  /** Called after each automatic rotation (e.g. to record it in an audit trail); a failure is logged. */
  onRotated?: (result: RotationResult) => Promise<void> | void
}

/** Logs each distinct problem once, not on every poll. */
function onceLogger (log: (message: string) => void) {
  let last: string | undefined
  return {
    report (message: string) { if (message !== last) log(message); last = message },
    clear () { last = undefined }
  }
}

export function createKeyReloader (options: KeyReloaderOptions) {
  const { keyStore, keyRing, log } = options
  const keys = keyStore.describe
  let loadedVersion = options.loadedVersion
  const reloadProblem = onceLogger((message) => log.error({ keys }, `key ring not reloaded, still using the previous keys: ${message}`))
  const rotationProblem = onceLogger((message) => log.warn({ keys }, `automatic key rotation postponed: ${message}`))

  /** Loads the ring again if the store's version changed; true when the ring was replaced. */
  async function reload (): Promise<boolean> {
    try {
      if (await keyStore.version() === loadedVersion) { reloadProblem.clear(); return false }
      const loaded = await keyStore.load()
      keyRing.replace(loaded.keys)
      loadedVersion = loaded.version
      reloadProblem.clear()
      log.info({ keys, activeKid: keyRing.activeKey().kid }, 'key ring reloaded')
      return true
    } catch (err) {
      reloadProblem.report((err as Error).message)
      return false
    }
  }

  /** Rotates the store's ring now and loads the result; throws what the store throws. */
  async function rotate (rotation: { force?: boolean } = {}): Promise<RotationResult> {
    const result = await keyStore.rotate({ ...options.timing, ...rotation })
    await reload()
    return result
  }

  /** Removes the retired key `kid` from the store's ring now and loads the result; throws what the store throws. */
  async function retire (kid: string): Promise<KeyRecord> {
    const removed = await keyStore.retire(kid)
    await reload()
    return removed
  }

  async function rotateIfDue (): Promise<void> {
    if (options.rotationInterval === undefined || activeKeyAge(keyRing.activeKey()) < options.rotationInterval) return
    let result: RotationResult
    try {
      result = await rotate()
      rotationProblem.clear()
      log.info({ keys, activeKid: result.active.kid }, 'key ring rotated automatically')
    } catch (err) {
      rotationProblem.report((err as Error).message)
      return
    }
    // The rotation happened: a failing callback must not be reported as a postponed rotation.
    try {
      await options.onRotated?.(result)
    } catch (err) {
      log.error({ keys, activeKid: result.active.kid }, `automatic key rotation not recorded: ${(err as Error).message}`)
    }
  }

  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> = Promise.resolve()
  let stopped = false

  function schedule (): void {
    if (stopped || options.reloadInterval === 0) return
    timer = setTimeout(() => {
      running = reload().then(rotateIfDue).then(schedule)
    }, options.reloadInterval * 1000)
    // Polling alone must never keep the process alive.
    timer.unref()
  }

  return {
    reload,
    rotate,
    retire,
    start: schedule,
    /** Stops polling and waits for a poll in progress. */
    async stop (): Promise<void> {
      stopped = true
      clearTimeout(timer)
      await running
    }
  }
}
