// Where the key ring lives. The issuer needs only these operations, so the PEM folder (the default)
// and any other backend (the auth service's database, services/auth/store/signing-keys.ts) are
// interchangeable: the plugin never knows which one it was given.
import { loadKeysFromManifest, readManifestText, type KeyRecord, type LoadedKey } from './key-files.js'
import { retireKeyFile, rotateKeyFiles, type RotationOptions, type RotationResult } from './key-rotation.js'

export interface LoadedRing {
  /** The version the keys were read at (see `version()`). */
  version: string
  keys: LoadedKey[]
}

export interface KeyStore {
  /** Names the store in logs and errors (a folder, "the database"); never a secret. */
  describe: string
  /** A cheap value that changes whenever the ring changes; the reloader polls it. */
  version (): Promise<string>
  /** Every key of the ring, checked (exactly one active), and the version it was read at. */
  load (): Promise<LoadedRing>
  /** Rotates the ring by the rules of key-rotation.ts; throws NextKeyTooYoungError unless forced. */
  rotate (options: RotationOptions): Promise<RotationResult>
  /** Removes a retired key now (see planRetirement); throws ISSUER_KEY_NOT_FOUND or ISSUER_KEY_NOT_RETIRED. */
  retire (kid: string): Promise<KeyRecord>
}

/** The PEM-file backend: the version is the text of keyring.json. */
export function createFileKeyStore (dir: string): KeyStore {
  return {
    describe: dir,
    version: () => readManifestText(dir),
    async load () {
      const version = await readManifestText(dir)
      return { version, keys: await loadKeysFromManifest(dir, version) }
    },
    rotate: (options) => rotateKeyFiles(dir, options),
    retire: (kid) => retireKeyFile(dir, kid)
  }
}
