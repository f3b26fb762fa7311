/** Messages between the Compare view and the extension host. Types only: nothing at runtime. */

export interface CompareRunDto {
  id: string;
  name: string;
  status: string;
}

export type CompareToHost =
  | { type: 'compare/ready' }
  | { type: 'compare/openRunsView' };

export type HostToCompare = { type: 'compare/show'; runs: CompareRunDto[]; storeRunCount: number };
