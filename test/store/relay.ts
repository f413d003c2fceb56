// A TCP relay on loopback in front of a database, for the tests that take the database away.
import { connect, createServer, type AddressInfo, type Socket } from 'node:net'

/** A loopback TCP relay to `target` that can be cut (every connection reset, new ones refused) and restored. */
export async function relay (target: URL) {
  const sockets = new Set<Socket>()
  let up = true
  const server = createServer((client) => {
    if (!up) {
      client.destroy()
      return
    }
    const upstream = connect(Number(target.port || 5432), target.hostname)
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('error', () => {})
      socket.on('close', () => sockets.delete(socket))
    }
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = new URL(target)
  url.host = `127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url: url.toString(),
    cut () {
      up = false
      for (const socket of sockets) socket.destroy()
    },
    restore () { up = true },
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
}
