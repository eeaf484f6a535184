// Progress of a multi-chunk transfer in encrypted bytes (what actually crosses the network):
// the chunks finished so far plus what the current chunk has moved. Chunk uploads report
// their own byte counts, which may step back after a retry (the server's offset wins); the
// total never does more than the item's size, and never less than the finished chunks.

export class ByteProgress {
  private finished = 0
  private current = 0

  constructor(readonly total: number) {}

  /** Bytes moved so far. */
  get sent(): number {
    return Math.min(this.total, this.finished + this.current)
  }

  /** The current chunk has moved n of its bytes. */
  setCurrent(n: number): void {
    this.current = Math.max(0, n)
  }

  /** The current chunk is complete with size bytes; the next one starts from 0. */
  finishChunk(size: number): void {
    this.finished += size
    this.current = 0
  }

  /** Everything is there. */
  complete(): void {
    this.finished = this.total
    this.current = 0
  }

  snapshot(): { sent: number; total: number } {
    return { sent: this.sent, total: this.total }
  }
}
