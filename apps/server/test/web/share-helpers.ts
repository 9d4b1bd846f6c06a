import type { Client, Json } from './harness.ts'

/** Makes a share link through the API (an hour unless `expiresIn` says otherwise). */
export async function makeShare (client: Client, body: Record<string, unknown>): Promise<{ token: string, url: string, share: Json }> {
  const response = await client.post('/api/v1/shares', { expiresIn: 3600, ...body })
  if (response.status !== 200) throw new Error(`share failed: ${JSON.stringify(response.body)}`)
  return response.body
}
