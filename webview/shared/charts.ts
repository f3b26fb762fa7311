/** Chart.js, registered once with only what the views use, themed from VS Code's colours. */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LineController,
  LineElement,
  LinearScale,
  PointElement,
  ScatterController,
  Tooltip,
} from 'chart.js';
import { fontFamily, foreground, gridColor, muted } from './theme';

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, ScatterController, BarController, BarElement, Filler, Legend, Tooltip);

let themed = false;

/** Applies the theme's font and colours to Chart.js defaults (call before creating charts). */
export function themeCharts(): void {
  if (themed) return;
  themed = true;
  Chart.defaults.font.family = fontFamily();
  Chart.defaults.font.size = 11;
  Chart.defaults.color = muted();
  Chart.defaults.borderColor = gridColor();
  Chart.defaults.animation = false;
  Chart.defaults.plugins.legend.labels.color = foreground();
  Chart.defaults.plugins.legend.labels.boxWidth = 10;
}

export { Chart };
