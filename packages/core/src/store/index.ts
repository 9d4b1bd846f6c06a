export type { ChunkStore, ChunkStoreStats, DamagedChunk } from './chunk-store.ts'
