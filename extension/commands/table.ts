/**
 * Registers every command from one table, each wrapped so a failure is shown once (its message)
 * and logged once (with its stack) instead of surfacing as an unhandled rejection.
 */
import * as vscode from 'vscode';
import type { Log } from '../util/log';
import type { CommandId } from './ids';

export type CommandFn = (...args: unknown[]) => unknown;

/** All commands: the parts (core, diff …) are merged into one, so none can be forgotten. */
export type CommandTable = Record<CommandId, CommandFn>;

export function registerCommands(table: CommandTable, log: Log): vscode.Disposable[] {
  return Object.entries(table).map(([id, fn]) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await fn(...args);
      } catch (e) {
        log.error(`command ${id} failed`, e);
        void vscode.window.showErrorMessage(e instanceof Error ? e.message : String(e));
        return undefined;
      }
    }),
  );
}
