/**
 * Compare view. Renders what the host sends and posts user intents back; it holds no data of
 * its own beyond the last message (kept with setState so a hidden view comes back as it was).
 */
import type { CompareToHost, HostToCompare } from '../protocol/messages';
import { vscodeApi } from '../shared/vscodeApi';

type State = { last?: HostToCompare };

const api = vscodeApi<CompareToHost, State>();
const root = document.getElementById('root') as HTMLElement;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function render(msg: HostToCompare | undefined): void {
  root.replaceChildren();
  if (!msg || msg.runs.length < 2) {
    const box = el('section', 'empty');
    box.append(el('h2', 'empty-title', 'Compare runs'));
    box.append(
      el(
        'p',
        'empty-text',
        msg && msg.storeRunCount === 0
          ? 'No runs recorded in this workspace yet.'
          : 'Select two or more runs in the Runs view to compare their parameters and metrics here.',
      ),
    );
    const button = el('button', 'link', 'Show Runs');
    button.addEventListener('click', () => api.postMessage({ type: 'compare/openRunsView' }));
    box.append(button);
    root.append(box);
    return;
  }
  const list = el('ul', 'runs');
  for (const r of msg.runs) list.append(el('li', `run status-${r.status}`, `${r.name} (${r.id})`));
  root.append(list);
}

window.addEventListener('message', (event: MessageEvent<HostToCompare>) => {
  const msg = event.data;
  if (msg?.type !== 'compare/show') return;
  api.setState({ last: msg });
  render(msg);
});

render(api.getState()?.last);
api.postMessage({ type: 'compare/ready' });
