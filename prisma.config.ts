// Prisma CLI config: the schema engine runs as WebAssembly over @prisma/adapter-pg (`engine: 'js'`), so
// `prisma migrate` needs no downloaded engine binary and works offline. DATABASE_URL is read lazily so
// `prisma generate` needs none.
import { defineConfig } from 'prisma/config'
import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import { randomUUID } from 'node:crypto'

function base() {
  if (!process.env.DATABASE_URL) throw new Error('DATABASE_URL is required for migrations')
  const u = new URL(process.env.DATABASE_URL)
  // ?host=/dir is a unix socket directory (the embedded database's private socket, src/db/embedded.ts)
  return { host: u.searchParams.get('host') ?? u.hostname, port: Number(u.port || 5432), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password), database: u.pathname.slice(1) }
}

// Report pg catalog types "char"(18) and name(19) as text(25): the adapter has no mapping for them and
// the Wasm schema engine's introspection queries return them (prisma/orm#27403).
class RemapPool extends pg.Pool {
  async query(cfg: any, values?: any): Promise<any> {
    const r: any = await (super.query as any)(cfg, values)
    for (const f of r?.fields ?? []) if (f.dataTypeID === 18 || f.dataTypeID === 19) f.dataTypeID = 25
    return r
  }
}

async function admin(sql: string) {
  const c = new pg.Client(base()); await c.connect()
  try { await c.query(sql) } finally { await c.end() }
}

class PrismaPgOffline extends PrismaPg {
  // Close the shadow pool before DROP DATABASE (adapter drops first, which fails with "being accessed by other users").
  async connectToShadowDb() {
    const database = `prisma_migrate_shadow_db_${randomUUID()}`
    await admin(`CREATE DATABASE "${database}"`)
    const pool = new RemapPool({ ...base(), database })
    pool.on('error', () => {})
    const shadow: any = await new PrismaPg(pool).connect()
    const dispose = shadow.dispose.bind(shadow)
    shadow.dispose = async () => { await dispose(); await pool.end(); await admin(`DROP DATABASE IF EXISTS "${database}"`) }
    return shadow
  }
}

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: 'prisma/schema.prisma',
  async adapter() { return new PrismaPgOffline(new RemapPool({ ...base(), max: 1 })) },
})
