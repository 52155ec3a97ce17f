import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { activeEngine, invalidateEngineCache } from '../../../functions/shared/flows/engine.js';
import { uploadsRepo } from '../../../functions/shared/db/uploads-repo.js';
import { canonicalEngineParameters } from '../../../functions/shared/domain/decision-engine.js';
import { TEST_ADMIN_TOKEN } from '../../support/constants.js';
import { createClientInProcess } from '../../support/factories.js';
import { invoke } from '../../support/http.js';
import type { ErrorBody } from '../../support/tenants.js';

/*
 * The registry has one installation-wide pointer. The uploads here mean exactly the default
 * parameters (and confidence_threshold 0), so decisions made by other test files while one of
 * them is active are the same as with no upload at all.
 */
const admin = { token: TEST_ADMIN_TOKEN };

async function upload(path: string, body: Record<string, unknown>) {
  return invoke<{ upload_id: string; kind: string; status: string; name: string; sha256: string; created_at: string }>(
    'decisions',
    'POST',
    path,
    { ...admin, body },
  );
}

describe('model / engine registry', () => {
  it('uploads are validated JSON bundles, stored pending with the sha256 of their canonical form', async () => {
    const params = { scoring: { risk_penalty: 0.25 }, thresholds: { spot_ceiling_ratio: 0.8 } };
    const res = await upload('/api/admin/ml-models/upload', { name: 'model-a', parameters: params, confidence_threshold: 0 });
    expect(res.status, res.text).toBe(201);
    expect(res.json).toMatchObject({ kind: 'model', status: 'pending', name: 'model-a' });
    expect(res.json.sha256).toBe(createHash('sha256').update(canonicalEngineParameters(params)).digest('hex'));
    // Same meaning, other spelling → same digest.
    const same = await upload('/api/admin/decision-engine/upload', { name: 'engine-a', parameters: {}, confidence_threshold: 0 });
    expect(same.status).toBe(201);
    expect(same.json.kind).toBe('engine');
    expect(same.json.sha256).toBe(res.json.sha256);

    const unknown = await upload('/api/admin/ml-models/upload', { name: 'bad', parameters: { scoring: { magic: 1 } } });
    expect(unknown.status).toBe(400);
    const code = await upload('/api/admin/ml-models/upload', { name: 'bad', parameters: 'function () {}' });
    expect(code.status).toBe(400);
    const { token } = await createClientInProcess();
    const notAdmin = await invoke<ErrorBody>('decisions', 'POST', '/api/admin/ml-models/upload', { token, body: { name: 'x', parameters: {} } });
    expect(notAdmin.status).toBe(403);
    expect(notAdmin.json.error.code).toBe('ADMIN_REQUIRED');
  });

  it('activate → previous becomes fallback; fallback re-activates it; a second fallback is 422 NO_FALLBACK', async () => {
    const first = await upload('/api/admin/ml-models/upload', { name: 'first', parameters: {}, confidence_threshold: 0 });
    const second = await upload('/api/admin/decision-engine/upload', { name: 'second', parameters: {}, confidence_threshold: 0 });
    const a1 = await invoke<{ upload_id: string; status: string; fallback_upload_id: string | null }>(
      'decisions', 'POST', '/api/admin/ml-models/activate', { ...admin, body: { upload_id: first.json.upload_id } },
    );
    expect(a1.status, a1.text).toBe(200);
    expect(a1.json).toMatchObject({ upload_id: first.json.upload_id, status: 'active' });

    const a2 = await invoke<{ upload_id: string; fallback_upload_id: string | null }>(
      'decisions', 'POST', '/api/admin/ml-models/activate', { ...admin, body: { upload_id: second.json.upload_id } },
    );
    expect(a2.status, a2.text).toBe(200);
    expect(a2.json.fallback_upload_id).toBe(first.json.upload_id);
    expect((await uploadsRepo.get(first.json.upload_id))?.status).toBe('fallback');
    // The decide path loads the active upload (cache cleared by activation in this process).
    invalidateEngineCache();
    expect((await activeEngine()).upload_id).toBe(second.json.upload_id);
    expect((await activeEngine()).confidence_threshold).toBe(0);

    const fb = await invoke<{ upload_id: string; replaced_upload_id: string }>('decisions', 'POST', '/api/admin/ml-models/fallback', admin);
    expect(fb.status, fb.text).toBe(200);
    expect(fb.json).toMatchObject({ upload_id: first.json.upload_id, replaced_upload_id: second.json.upload_id });
    expect((await uploadsRepo.get(first.json.upload_id))?.status).toBe('active');
    expect((await uploadsRepo.get(second.json.upload_id))?.status).toBe('superseded');

    const again = await invoke<ErrorBody>('decisions', 'POST', '/api/admin/ml-models/fallback', admin);
    expect(again.status).toBe(422);
    expect(again.json.error.code).toBe('NO_FALLBACK');

    const list = await invoke<{ uploads: { upload_id: string; kind: string; status: string; files: unknown }[] }>(
      'decisions', 'GET', '/api/admin/ml-models/sessions', { ...admin, query: { kind: 'engine' } },
    );
    expect(list.status, list.text).toBe(200);
    expect(list.json.uploads.every((u) => u.kind === 'engine')).toBe(true);
    expect(list.json.uploads.find((u) => u.upload_id === second.json.upload_id)?.status).toBe('superseded');
  });

  it('an upload that fails the acceptance check becomes failed: 422 UPLOAD_INCOMPLETE, now and later', async () => {
    const bad = await upload('/api/admin/ml-models/upload', {
      name: 'blind-risk',
      parameters: { risk_weights: { interruptions: 0, volatility: 0, price_ratio: 0 } },
    });
    expect(bad.status, bad.text).toBe(201);
    const before = await uploadsRepo.pointer();
    for (let i = 0; i < 2; i++) {
      const res = await invoke<ErrorBody>('decisions', 'POST', '/api/admin/ml-models/activate', { ...admin, body: { upload_id: bad.json.upload_id } });
      expect(res.status).toBe(422);
      expect(res.json.error.code).toBe('UPLOAD_INCOMPLETE');
    }
    expect((await uploadsRepo.get(bad.json.upload_id))?.status).toBe('failed');
    expect((await uploadsRepo.pointer())?.active_upload_id).toBe(before?.active_upload_id);
    const list = await invoke<{ uploads: { upload_id: string; status: string }[] }>('decisions', 'GET', '/api/admin/ml-models/sessions', admin);
    expect(list.json.uploads.find((u) => u.upload_id === bad.json.upload_id)?.status).toBe('failed');
  });

  it('concurrent activations: the pointer ends on one of them and statuses agree with it', async () => {
    const ups = await Promise.all(
      [1, 2, 3].map((i) => upload('/api/admin/ml-models/upload', { name: `race-${i}`, parameters: {}, confidence_threshold: 0 })),
    );
    const results = await Promise.all(
      ups.map((u) => invoke('decisions', 'POST', '/api/admin/ml-models/activate', { ...admin, body: { upload_id: u.json.upload_id } })),
    );
    for (const r of results) expect([200, 409]).toContain(r.status);
    const pointer = await uploadsRepo.pointer();
    const statuses = await Promise.all(ups.map(async (u) => (await uploadsRepo.get(u.json.upload_id))?.status));
    expect(statuses.filter((s) => s === 'active')).toHaveLength(1);
    const active = ups[statuses.indexOf('active')]?.json.upload_id;
    expect(pointer?.active_upload_id).toBe(active);
  });
});
