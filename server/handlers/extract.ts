/**
 * "Extract Notebook to Pipeline" from VS Code: the preview (analysis + proposed or edited steps)
 * and the write. Analysis runs the user's interpreter and may import modules named in star
 * imports, so both refuse in an untrusted workspace.
 */
import * as fs from 'fs';
import * as path from 'path';
import { LabbookError } from '../core/errors';
import { existingFiles, extractJson, pipelineFiles, previewExtraction, writePipeline } from '../extract/extract';
import type { StoreHandle } from '../core/storeHandle';
import { verifyPipeline } from '../extract/verify';
import type { ExtractPreviewParams, ExtractPreviewResult, ExtractVerifyResult, ExtractWriteParams, ExtractWriteResult } from '../protocol/requests';

export class ExtractHandler {
  constructor(
    private readonly isTrusted: () => boolean,
    private readonly handle: () => StoreHandle,
  ) {}

  private check(p: ExtractPreviewParams): void {
    if (!this.isTrusted()) throw new LabbookError('BAD_ARGUMENT', 'Labbook does not analyse notebooks in an untrusted workspace (star imports are resolved by importing modules). Trust this folder first.');
    if (!p?.notebook || !fs.existsSync(p.notebook)) throw new LabbookError('BAD_ARGUMENT', `notebook ${p?.notebook} not found`);
  }

  async preview(p: ExtractPreviewParams): Promise<ExtractPreviewResult> {
    this.check(p);
    const preview = await previewExtraction({ notebook: p.notebook, python: p.python ?? 'python3', split: p.split, plan: p.plan });
    const json = extractJson(preview);
    const planned = new Set(preview.plan.flatMap((s) => s.cells));
    return {
      steps: json.steps.map(({ name, cells, cellIds, inputs, outputs, params }) => ({ name, cells, cellIds, inputs, outputs, params })),
      params: json.params,
      warnings: json.warnings,
      notes: json.notes,
      cells: preview.analysis.cells
        .filter((c) => planned.has(c.index))
        .map((c) => ({ index: c.index, firstLine: c.body.split('\n').find((l) => l.trim()) ?? '' })),
      existing: p.outDir ? existingFiles(path.resolve(p.outDir), pipelineFiles(preview, p.outDir).keys()) : [],
    };
  }

  async write(p: ExtractWriteParams): Promise<ExtractWriteResult> {
    this.check(p);
    if (!p.outDir) throw new LabbookError('BAD_ARGUMENT', 'no output folder given');
    const preview = await previewExtraction({ notebook: p.notebook, python: p.python ?? 'python3', split: p.split, plan: p.plan });
    const files = writePipeline(preview, p.outDir, !!p.force);
    return { outDir: path.resolve(p.outDir), files };
  }

  /** The pipeline in outDir (written from this plan) against the notebook; records runs in the store. */
  async verify(p: ExtractPreviewParams & { outDir: string }): Promise<ExtractVerifyResult> {
    this.check(p);
    const handle = this.handle();
    const workspace = handle.workspace;
    if (!workspace) throw new LabbookError('NO_STORE', 'Open a folder first: Labbook records the verification runs in the workspace.');
    const preview = await previewExtraction({ notebook: p.notebook, python: p.python ?? 'python3', split: p.split, plan: p.plan });
    return verifyPipeline(handle.getOrCreate(), { workspace, notebook: preview.notebook, outDir: path.resolve(p.outDir), python: p.python ?? 'python3', steps: preview.pipeline.steps });
  }
}
