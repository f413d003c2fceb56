// Runs in the password pool's worker threads (see passwords.ts): one argon2id hash or check at a
// time, synchronously, on this thread, so the thread's lowered priority applies to the work itself.
import { hashSync, verifySync } from '@node-rs/argon2'
import { ARGON2_OPTIONS } from './argon2-options.js'

export type PasswordTask =
  | { op: 'hash', password: string }
  | { op: 'verify', hash: string, password: string }

export default function run (task: PasswordTask): string | boolean {
  return task.op === 'hash' ? hashSync(task.password, ARGON2_OPTIONS) : verifySync(task.hash, task.password)
}
