// Revoked grants and access tokens, held in memory so bearer verification needs no database round
// trip (the ≤0.5 ms budget), yet revocation takes effect at once: this process adds ids as it revokes
// them, other processes learn them through LISTEN/NOTIFY, and the set is reloaded after a reconnect.
import type { Db } from '../store/session.js';
import { activeRevocations, addRevocation, listenRevocations, revokeGrant } from '../store/auth-grants.js';

export class Revocations {
  private ids = new Set<string>();
  /** Ids added since the last reload began: kept across it, in case their row was not yet committed. */
  private added = new Set<string>();
  private stopListening: (() => Promise<void>) | undefined;

  constructor(private readonly db: Db) {}

  async start(): Promise<void> {
    await this.reload();
    this.stopListening = await listenRevocations(this.db, (id) => this.add(id), () => void this.reload().catch(() => {}));
    // Expired entries leave the table; reload now and then so the set does not grow forever.
    this.timer = setInterval(() => void this.reload().catch(() => {}), 10 * 60 * 1000);
    this.timer.unref();
  }

  private timer: NodeJS.Timeout | undefined;

  async reload(): Promise<void> {
    const before = this.added;
    this.added = new Set();
    const fresh = new Set(await activeRevocations(this.db));
    for (const id of before) fresh.add(id);
    for (const id of this.added) fresh.add(id);
    this.ids = fresh;
  }

  private add(id: string): void {
    this.ids.add(id);
    this.added.add(id);
  }

  has(id: string | undefined): boolean {
    return id !== undefined && this.ids.has(id);
  }

  async revokeGrant(grantId: string, accessExpiresAt: Date): Promise<void> {
    this.add(grantId);
    await revokeGrant(this.db, grantId, accessExpiresAt);
  }

  async revokeToken(jti: string, expiresAt: Date): Promise<void> {
    this.add(jti);
    await addRevocation(this.db, jti, expiresAt);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.stopListening?.();
  }
}
