// Keeps the running service's key ring in step with the files, without a restart.
//
// Why polling: every few seconds we read keyring.json (a few hundred bytes) and reload only when
// its text changed. fs.watch misses renames on some platforms and on network or container volumes
// (Kubernetes swaps mounted secrets through a symlink), and SIGHUP needs whoever rotates to find
// and signal every process; a poll works on any filesystem, for any number of replicas reading
// the folder. Key files are written before the manifest that names them, so a changed manifest
// means the whole new ring is on disk. A bad file never replaces a good ring: the service keeps
// signing and publishing with the keys it had, logs the file once, and retries on every poll.
import type { FastifyBaseLogger } from 'fastify'
import { loadKeysFromManifest, readManifestText } from './key-files.js'
import type { KeyRing } from './key-ring.js'
import { activeKeyAge, rotateKeyFiles } from './key-rotation.js'
import type { KeyTiming } from './key-timing.js'

export interface KeyReloaderOptions {
  keysDir: string
  keyRing: KeyRing
  /** The manifest text the ring was loaded from. */
  loadedManifest: string
  log: FastifyBaseLogger
  /** Seconds between polls; 0 turns polling (and automatic rotation) off. */
  reloadInterval: number
  /** Seconds an active key signs before automatic rotation; undefined: never. */
  rotationInterval?: number
  timing: KeyTiming
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
  const { keysDir, keyRing, log } = options
  let loadedManifest = options.loadedManifest
  const reloadProblem = onceLogger((message) => log.error({ keysDir }, `key ring not reloaded, still using the previous keys: ${message}`))
  const rotationProblem = onceLogger((message) => log.warn({ keysDir }, `automatic key rotation postponed: ${message}`))

  /** Loads the ring again if keyring.json changed; true when the ring was replaced. */
  async function reload (): Promise<boolean> {
    try {
      const text = await readManifestText(keysDir)
      if (text === loadedManifest) { reloadProblem.clear(); return false }
      keyRing.replace(await loadKeysFromManifest(keysDir, text))
      loadedManifest = text
      reloadProblem.clear()
      log.info({ keysDir, activeKid: keyRing.activeKey().kid }, 'key ring reloaded')
      return true
    } catch (err) {
      reloadProblem.report((err as Error).message)
      return false
    }
  }

  async function rotateIfDue (): Promise<void> {
    if (options.rotationInterval === undefined || activeKeyAge(keyRing.activeKey()) < options.rotationInterval) return
    try {
      const { active } = await rotateKeyFiles(keysDir, options.timing)
      rotationProblem.clear()
      log.info({ keysDir, activeKid: active.kid }, 'key ring rotated automatically')
    } catch (err) {
      rotationProblem.report((err as Error).message)
    }
  }

  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> = Promise.resolve()
  let stopped = false

  function schedule (): void {
    if (stopped || options.reloadInterval === 0) return
    timer = setTimeout(() => {
      running = rotateIfDue().then(reload).then(schedule)
    }, options.reloadInterval * 1000)
    // Polling alone must never keep the process alive.
    timer.unref()
  }

  return {
    reload,
    start: schedule,
    /** Stops polling and waits for a poll in progress. */
    async stop (): Promise<void> {
      stopped = true
      clearTimeout(timer)
      await running
    }
  }
}
