/**
 * The model / decision-engine registry (API.md §3.9): versioned JSON parameter sets for the
 * engine, never code. An upload is validated against the engine's strict parameter schema at the
 * edge (unknown keys → 400), stored `pending` with the sha256 of its canonical JSON, and must pass
 * an acceptance check when it is activated (otherwise it becomes `failed`: 422 UPLOAD_INCOMPLETE).
 */
import { createHash } from 'node:crypto';
import { type Upload, type UploadKind, uploadsRepo } from '../shared/db/uploads-repo.js';
import {
  canonicalEngineParameters,
  createDefaultEngine,
  DEFAULT_LIMITS,
  type DecisionEngine,
  type DecisionInput,
  type EngineParametersInput,
  engineParametersSchema,
} from '../shared/domain/decision-engine.js';
import { ConflictError, NotFoundError, UnprocessableError } from '../shared/domain/errors.js';
import { newId } from '../shared/domain/ids.js';
import { invalidateEngineCache } from '../shared/flows/engine.js';
import { logger } from '../shared/observability.js';

export interface UploadInput {
  name: string;
  description?: string;
  parameters: EngineParametersInput;
  confidence_threshold: number;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** POST /api/admin/ml-models/upload and /api/admin/decision-engine/upload. */
export async function createUpload(kind: UploadKind, input: UploadInput, now: Date) {
  const canonical = canonicalEngineParameters(input.parameters);
  const digest = sha256(canonical);
  const upload: Upload = {
    upload_id: newId(),
    kind,
    name: input.name,
    description: input.description ?? null,
    parameters: JSON.parse(canonical) as Record<string, unknown>,
    confidence_threshold: input.confidence_threshold,
    sha256: digest,
    status: 'pending',
    files: [{ name: 'parameters.json', sha256: digest, bytes: Buffer.byteLength(canonical, 'utf8') }],
    created_at: now.toISOString(),
    activated_at: null,
    error: null,
    version: 1,
  };
  await uploadsRepo.create(upload);
  return {
    upload_id: upload.upload_id,
    kind,
    status: 'pending' as const,
    name: upload.name,
    sha256: digest,
    created_at: upload.created_at,
    confidence_threshold: upload.confidence_threshold,
  };
}

/**
 * Acceptance check run on activation: the parameter set must still parse, and the engine it builds
 * must keep the safety rules on a few fixed scenarios (leave a spot pool priced above on-demand,
 * leave a pool whose risk exceeds the threshold, do not churn between equally priced pools) and
 * produce finite, in-range numbers. Returns the problems found (empty = accepted).
 */
export function acceptanceProblems(parameters: unknown): string[] {
  const parsed = engineParametersSchema.safeParse(parameters);
  if (!parsed.success) return parsed.error.issues.map((i) => `${i.path.join('.') || 'parameters'}: ${i.message}`);
  let engine: DecisionEngine;
  try {
    engine = createDefaultEngine(parsed.data);
  } catch (err) {
    return [`the engine could not be built: ${(err as Error).message}`];
  }
  const now = Date.parse('2025-01-15T12:00:00Z');
  const t = 'm5.large';
  const pool = (az: string, price: number, risk = 0.05) => ({
    pool_id: `${t}.us-east-1${az}`,
    az: `us-east-1${az}`,
    instance_type: t,
    price,
    price_age_seconds: 60,
    stats: { risk_score: risk, avg_price_24h: price, history_hours: 24 },
  });
  const base = (candidates: DecisionInput['candidates'], currentPrice: number): DecisionInput => ({
    agent: { enabled: true, auto_switch_enabled: true, switch_open: false },
    current: { mode: 'spot', pool_id: `${t}.us-east-1a`, instance_type: t, since: now - 48 * 3_600_000, price: currentPrice },
    candidates,
    on_demand_price: 0.1,
    limits: { ...DEFAULT_LIMITS },
    recent_switches: [],
    now,
    trigger: 'model',
  });
  const problems: string[] = [];
  const check = (label: string, input: DecisionInput, ok: (d: ReturnType<DecisionEngine['decide']>) => boolean) => {
    try {
      const d = engine.decide(input);
      const finite = [d.risk_score, d.expected_savings_per_hour, d.confidence].every(Number.isFinite);
      if (!finite || d.confidence < 0 || d.confidence > 1 || d.risk_score < 0 || d.risk_score > 1) {
        problems.push(`${label}: output out of range`);
      } else if (!ok(d)) {
        problems.push(`${label}: unexpected decision ${d.decision_type}`);
      }
    } catch (err) {
      problems.push(`${label}: the engine threw: ${(err as Error).message}`);
    }
  };
  check('spot price above on-demand', base([pool('a', 0.12), pool('b', 0.03)], 0.12), (d) => d.recommended_action === 'switch');
  // Risk computed by the upload's own risk formula: a pool interrupted daily with 30 % price
  // volatility must count as too risky (weights that make every pool "safe" are rejected).
  const stormy = { ...pool('a', 0.03), stats: { interruptions_30d: 30, volatility: 0.3, avg_price_24h: 0.03, history_hours: 24 } };
  check('interrupted, volatile current pool', base([stormy, pool('b', 0.03)], 0.03), (d) => d.recommended_action === 'switch');
  check('equally priced pools', base([pool('a', 0.03), pool('b', 0.03), pool('c', 0.03)], 0.03), (d) => d.recommended_action === 'stay');
  return problems;
}

/** POST /api/admin/ml-models/activate. */
export async function activateUpload(uploadId: string, now: Date) {
  const at = now.toISOString();
  for (let attempt = 0; attempt < 4; attempt++) {
    const upload = await uploadsRepo.get(uploadId);
    if (!upload) throw new NotFoundError('upload');
    if (upload.status === 'failed') {
      throw new UnprocessableError('UPLOAD_INCOMPLETE', `upload failed validation: ${upload.error ?? 'unknown error'}`);
    }
    const pointer = await uploadsRepo.pointer();
    if (upload.status === 'active' && pointer?.active_upload_id === upload.upload_id) {
      return { upload_id: upload.upload_id, status: 'active' as const, activated_at: upload.activated_at ?? at, fallback_upload_id: pointer.fallback_upload_id };
    }
    const problems = acceptanceProblems(upload.parameters);
    if (problems.length > 0) {
      await uploadsRepo.markFailed(upload.upload_id, problems.join('; '));
      throw new UnprocessableError(
        'UPLOAD_INCOMPLETE',
        'upload failed validation',
        problems.map((p) => ({ field: 'body.upload_id', issue: p })),
      );
    }
    if (await uploadsRepo.activate(upload.upload_id, pointer, at)) {
      invalidateEngineCache();
      logger.info('engine upload activated', { uploadId, replaced: pointer?.active_upload_id ?? null });
      return { upload_id: upload.upload_id, status: 'active' as const, activated_at: at, fallback_upload_id: pointer?.active_upload_id ?? null };
    }
  }
  throw new ConflictError('VERSION_CONFLICT', 'the active upload changed concurrently; retry');
}

/** POST /api/admin/ml-models/fallback. */
export async function fallbackUpload(now: Date) {
  const at = now.toISOString();
  for (let attempt = 0; attempt < 4; attempt++) {
    const pointer = await uploadsRepo.pointer();
    if (!pointer?.active_upload_id || !pointer.fallback_upload_id) {
      throw new UnprocessableError('NO_FALLBACK', 'there is no fallback upload to re-activate');
    }
    const seen = { ...pointer, active_upload_id: pointer.active_upload_id, fallback_upload_id: pointer.fallback_upload_id };
    if (await uploadsRepo.fallback(seen, at)) {
      invalidateEngineCache();
      return { upload_id: seen.fallback_upload_id, replaced_upload_id: seen.active_upload_id, activated_at: at };
    }
  }
  throw new ConflictError('VERSION_CONFLICT', 'the active upload changed concurrently; retry');
}

/** GET /api/admin/ml-models/sessions. */
export async function listUploads(kind: UploadKind | undefined) {
  const uploads = await uploadsRepo.list(kind);
  return {
    uploads: uploads.map((u) => ({
      upload_id: u.upload_id,
      kind: u.kind,
      name: u.name,
      status: u.status,
      files: u.files,
      sha256: u.sha256,
      confidence_threshold: u.confidence_threshold,
      error: u.error,
      created_at: u.created_at,
      activated_at: u.activated_at,
    })),
  };
}
