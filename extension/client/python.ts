/**
 * The user's Python: `labbook.python.path`, else the interpreter selected in the Python
 * extension (when installed), else `python3`. Never guesses beyond that.
 */
import * as vscode from 'vscode';
import { SETTINGS } from '../util/config';

interface PythonExtensionApi {
  environments?: { getActiveEnvironmentPath(resource?: vscode.Uri): { path: string } | undefined };
}

export async function pythonInterpreter(resource?: vscode.Uri): Promise<{ path: string; from: string }> {
  const setting = vscode.workspace.getConfiguration('', resource).get<string>(SETTINGS.pythonPath, '').trim();
  if (setting) return { path: setting, from: SETTINGS.pythonPath };
  const ext = vscode.extensions.getExtension<PythonExtensionApi>('ms-python.python');
  if (ext) {
    try {
      const api = ext.isActive ? ext.exports : await ext.activate();
      const p = api?.environments?.getActiveEnvironmentPath(resource)?.path;
      if (p) return { path: p, from: 'the Python extension' };
    } catch {
      // the Python extension is installed but not usable: fall back
    }
  }
  return { path: 'python3', from: 'python3 on PATH' };
}
