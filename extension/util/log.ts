/** The one Labbook log: a LogOutputChannel shared with the language client (server logs land here too). */
import * as vscode from 'vscode';

export class Log implements vscode.Disposable {
  readonly channel: vscode.LogOutputChannel;

  constructor() {
    this.channel = vscode.window.createOutputChannel('Labbook', { log: true });
  }

  info(message: string): void {
    this.channel.info(message);
  }

  warn(message: string): void {
    this.channel.warn(message);
  }

  /** Errors carry their stack in the log; users see only the message. */
  error(message: string, e?: unknown): void {
    if (e instanceof Error) this.channel.error(`${message}: ${e.stack ?? e.message}`);
    else if (e !== undefined) this.channel.error(`${message}: ${String(e)}`);
    else this.channel.error(message);
  }

  show(): void {
    this.channel.show(true);
  }

  dispose(): void {
    this.channel.dispose();
  }
}
