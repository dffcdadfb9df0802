import { randomToken, type Prepared } from './accessTokens.ts'
import type { Context } from './context.ts'
import type { Reuse } from './options.ts'
import {
  ACCESS_RECORD_SOFT_LIMIT,
  type Family,
  type RefreshRecord,
  type ServerState,
} from './state.ts'

// Families of refresh tokens, rotation, reuse detection and revocation. Every function
// here is synchronous on a given state and answers with an outcome, never a Response:
// a check-and-rotate that never awaits cannot race with another one.

export type Issued = { accessToken: string; refreshToken: string }

export type Exchanged =
  | {
      ok: true
      family: Family
      tokens: Issued
      /** `rotated`, or a replay the reuse policy allowed. */
      outcome: 'rotated' | 'reuse_interval' | 'parent_of_active'
    }
  | {
      ok: false
      family: Family | undefined
      reason: 'unknown_token' | 'family_revoked' | 'family_expired' | 'reuse'
    }

/** A new family (one per login) holding the prepared pair. */
export function startFamily(
  { settings }: Context,
  state: ServerState,
  user: string,
  prepared: Prepared,
): Family {
  const now = settings.now()
  const family: Family = {
    id: `fam_${randomToken(9)}`,
    user,
    expiresAt: now + settings.refreshTtlMs,
    revoked: false,
    jtis: new Set(),
  }
  state.families.set(family.id, family)
  addAccess(state, family, prepared, now)
  addRefresh(state, family, undefined, prepared)
  return family
}

/** The family a refresh token (by hash) belongs to, if this server issued it. */
export function familyOfRefresh(
  state: ServerState,
  hash: string,
): Family | undefined {
  const record = state.refresh.get(hash)
  return record && state.families.get(record.family)
}

/**
 * Trades the refresh token `hash` for `prepared`: rotates it, or, when it was rotated
 * already, applies the reuse policy (a replay it does not allow revokes the family).
 */
export function exchange(
  { settings }: Context,
  state: ServerState,
  hash: string,
  prepared: Prepared,
): Exchanged {
  const record = state.refresh.get(hash)
  const family = record && state.families.get(record.family)
  if (!record || !family)
    return { ok: false, family: undefined, reason: 'unknown_token' }
  const now = settings.now()
  if (family.revoked) return { ok: false, family, reason: 'family_revoked' }
  if (now >= family.expiresAt)
    return { ok: false, family, reason: 'family_expired' }
  if (record.rotatedAt === undefined) {
    record.rotatedAt = now
    state.stats.rotations++
    // Its parent is now a grandparent of the active token: no longer handed back.
    if (record.parent !== undefined)
      delete state.refresh.get(record.parent)?.activeChild
    addAccess(state, family, prepared, now)
    addRefresh(state, family, hash, prepared)
    if (settings.reuse.kind === 'parent-of-active')
      record.activeChild = prepared.refreshToken
    return { ok: true, family, tokens: issued(prepared), outcome: 'rotated' }
  }
  const allowed = replayAllowed(settings.reuse, state, record, now)
  if (allowed === 'no') {
    revokeFamily(state, family)
    return { ok: false, family, reason: 'reuse' }
  }
  addAccess(state, family, prepared, now)
  if (allowed === 'active-child') {
    // Supabase's behaviour: the same child again, with a new access token.
    const tokens = {
      accessToken: prepared.accessToken,
      refreshToken: record.activeChild!,
    }
    return { ok: true, family, tokens, outcome: 'parent_of_active' }
  }
  // Auth0's behaviour: the immediate parent gets a new sibling child.
  addRefresh(state, family, hash, prepared)
  return {
    ok: true,
    family,
    tokens: issued(prepared),
    outcome: 'reuse_interval',
  }
}

function replayAllowed(
  reuse: Reuse,
  state: ServerState,
  record: RefreshRecord,
  now: number,
): 'no' | 'sibling' | 'active-child' {
  const childrenUnused = record.children.every(
    (child) => state.refresh.get(child)?.rotatedAt === undefined,
  )
  switch (reuse.kind) {
    case 'strict':
      return 'no'
    case 'interval':
      return now - record.rotatedAt! < reuse.intervalMs && childrenUnused
        ? 'sibling'
        : 'no'
    case 'parent-of-active':
      return record.activeChild !== undefined && childrenUnused
        ? 'active-child'
        : 'no'
  }
}

/** Revokes a family and its access tokens; false when it already was. */
export function revokeFamily(state: ServerState, family: Family): boolean {
  if (family.revoked) return false
  family.revoked = true
  for (const jti of family.jtis) {
    const record = state.access.get(jti)
    if (record) record.revoked = true
  }
  for (const record of state.refresh.values())
    if (record.family === family.id) delete record.activeChild
  state.stats.revokedFamilies++
  return true
}

/** Revokes one access token; false when this server does not know it. */
export function revokeAccess(state: ServerState, jti: string): boolean {
  const record = state.access.get(jti)
  if (record) record.revoked = true
  return record !== undefined
}

const issued = (prepared: Prepared): Issued => ({
  accessToken: prepared.accessToken,
  refreshToken: prepared.refreshToken,
})

function addAccess(
  state: ServerState,
  family: Family,
  prepared: Prepared,
  now: number,
): void {
  pruneAccess(state, now)
  state.access.set(prepared.jti, {
    sub: family.user,
    family: family.id,
    expiresAt: prepared.accessExpiresAt,
    revoked: false,
  })
  family.jtis.add(prepared.jti)
}

function addRefresh(
  state: ServerState,
  family: Family,
  parent: string | undefined,
  prepared: Prepared,
): void {
  state.refresh.set(prepared.refreshHash, {
    family: family.id,
    parent,
    children: [],
    rotatedAt: undefined,
  })
  if (parent !== undefined)
    state.refresh.get(parent)?.children.push(prepared.refreshHash)
}

/**
 * Drops expired access records once there are many, so memory stays bounded
 * under load. The threshold doubles with what survives: amortized O(1).
 */
function pruneAccess(state: ServerState, now: number): void {
  if (state.access.size < state.pruneAt) return
  for (const [jti, record] of state.access)
    if (record.expiresAt <= now) {
      state.access.delete(jti)
      state.families.get(record.family)?.jtis.delete(jti)
    }
  state.pruneAt = Math.max(ACCESS_RECORD_SOFT_LIMIT, state.access.size * 2)
}
