// OWASP's argon2id parameters (m=19456 KiB, t=2, p=1), shared by the service and its password workers.
import type { Algorithm } from '@node-rs/argon2'

export const ARGON2_OPTIONS = {
  // Algorithm is a const enum, which verbatimModuleSyntax cannot read at run time: 2 is Argon2id.
  algorithm: 2 as Algorithm.Argon2id,
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1
} as const
