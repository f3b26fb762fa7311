import type { StoreHandle } from '../core/storeHandle';
import type { RunDetail, RunPage } from '../protocol/dto';
import type { GetRunParams, ListRunsParams } from '../protocol/requests';
import { LabbookError } from '../core/errors';

export function listRuns(handle: StoreHandle, params: ListRunsParams): RunPage {
  const store = handle.get();
  if (!store) return { runs: [], total: 0, offset: 0 };
  return store.listRuns(params);
}

export function getRun(handle: StoreHandle, params: GetRunParams): RunDetail {
  const store = handle.get();
  if (!store) throw new LabbookError('NO_STORE', `This workspace has no Labbook store yet, so there is no run '${params.id}'.`);
  return store.getRun(params.id);
}
