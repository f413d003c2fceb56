// Schema building blocks both services use.
import { Type } from '@sinclair/typebox'

/** Every 4xx/5xx body. `code` is stable: clients branch on it, never on `message`. */
export const ErrorSchema = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String(),
  error: Type.String(),
  message: Type.String()
}, { $id: 'Error', description: 'An error, with a stable `code`' })

export const HealthSchema = Type.Object({ status: Type.Literal('ok') })
