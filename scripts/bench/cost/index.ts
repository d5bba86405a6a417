/**
 * The cost part of `npm run bench` (alone: `npm run bench -- --only cost`): the harness over each
 * configuration, the bill at 10,000, 100,000 and 1,000,000 webhooks a month, a burst, and the
 * fixed monthly part from the template. Method: docs/performance.md, "What it costs".
 */
import { PRICES_AS_OF, PRICES_REGION } from './prices';
import { burstBill, byService, fixedBill, trickleBill, type Bill, type TrickleInputs } from './model';
import { runBurst, runTrickle, startEmulators } from './pipeline';
import { CONFIGURATIONS, synthesize, type CostConfiguration } from './template';

export const VOLUMES = [10_000, 100_000, 1_000_000] as const;

export interface CostOptions {
  /** Webhooks through the pipeline per configuration after the first (which fills the caches). */
  readonly trickleWebhooks: number;
  /** Webhooks of the burst (default configuration only); 0 skips it. */
  readonly burstWebhooks: number;
  readonly configurations?: readonly CostConfiguration[];
  readonly progress?: (line: string) => void;
}

export interface CostResult {
  readonly perConfiguration: Record<string, { readonly inputs: TrickleInputs; readonly months: readonly Bill[]; readonly fixed: Bill; readonly perMillion: Bill }>;
  readonly burst?: Bill & { readonly seconds: number; readonly messages: number };
  readonly awsUsdPerMillionWebhooks: number;
  readonly awsUsdPerMillionWebhooksBurst: number | null;
  readonly awsFixedUsdPerMonth: number;
}

export async function runCostModel(options: CostOptions): Promise<CostResult> {
  const progress = options.progress ?? (() => undefined);
  const emulators = await startEmulators();
  try {
    const perConfiguration: Record<string, CostResult['perConfiguration'][string]> = {};
    for (const configuration of options.configurations ?? CONFIGURATIONS) {
      const notifier = synthesize(configuration);
      const { cold, warm } = await runTrickle(emulators, notifier, options.trickleWebhooks);
      const inputs: TrickleInputs = { notifier, cold, warm, customMetrics: new Set([...cold.customMetrics, ...warm.customMetrics]).size };
      perConfiguration[configuration] = {
        inputs,
        months: VOLUMES.map((volume) => trickleBill(inputs, volume)),
        fixed: fixedBill(notifier),
        perMillion: trickleBill(inputs, 1_000_000),
      };
      progress(`cost: ${configuration}: ${warm.calls.length} AWS requests for ${warm.webhooks} webhooks`);
    }
    const defaults = perConfiguration.default ?? Object.values(perConfiguration)[0];
    let burst: CostResult['burst'];
    if (options.burstWebhooks > 0) {
      const run = await runBurst(emulators, defaults.inputs.notifier, options.burstWebhooks);
      burst = { ...burstBill(defaults.inputs, run), seconds: run.seconds, messages: run.slackRequests };
      progress(`cost: burst of ${run.webhooks} drained in ${run.seconds.toFixed(1)} s, ${run.slackRequests} Slack messages`);
    }
    return {
      perConfiguration,
      burst,
      awsUsdPerMillionWebhooks: defaults.perMillion.usd,
      awsUsdPerMillionWebhooksBurst: burst ? (burst.usd / burst.webhooks) * 1e6 : null,
      awsFixedUsdPerMonth: defaults.fixed.usd,
    };
  } finally {
    await emulators.stop();
  }
}

const usd = (value: number) => (value >= 100 ? value.toFixed(0) : value >= 1 ? value.toFixed(2) : value.toFixed(3));

/** The cost part of the bench's table: per configuration and volume, and the default deploy's lines by service. */
export function costTable(result: CostResult): string {
  const lines: string[] = [`cost (AWS list prices, ${PRICES_REGION} on-demand, ${PRICES_AS_OF}, no free tier; counts observed on the emulators, Lambda time measured on this machine):`];
  const header = ['configuration', ...VOLUMES.map((v) => `${v.toLocaleString('en-US')}/month`), 'fixed/month', 'per million'];
  const rows = Object.entries(result.perConfiguration).map(([name, entry]) => [
    name,
    ...entry.months.map((month) => `${usd(month.usd + entry.fixed.usd)} USD`),
    `${usd(entry.fixed.usd)} USD`,
    `${usd(entry.perMillion.usd)} USD`,
  ]);
  const widths = header.map((_, column) => Math.max(...[header, ...rows].map((row) => row[column].length)));
  for (const row of [header, ...rows]) lines.push(`  ${row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ')}`);
  const describe = (title: string, bill: Bill) => {
    lines.push(`  ${title}: ${usd(bill.usd)} USD`);
    for (const [service, amount] of Object.entries(byService(bill)).sort((a, b) => b[1] - a[1])) {
      const items = bill.lines.filter((line) => line.service === service && line.usd > 0).map((line) => `${line.item} ${usd(line.usd)}`);
      lines.push(`    ${service.padEnd(22)} ${usd(amount).padStart(7)} USD  ${items.join('; ')}`);
    }
  };
  const defaults = result.perConfiguration.default;
  if (defaults) {
    describe('default deploy, 1,000,000 webhooks a month (trickle), by service', defaults.perMillion);
    if (result.burst) describe(`default deploy, a burst of ${result.burst.webhooks.toLocaleString('en-US')} (drained in ${result.burst.seconds.toFixed(0)} s, ${result.burst.messages} Slack messages), by service`, result.burst);
    describe('default deploy standing, no webhooks, a month', defaults.fixed);
  }
  return `${lines.join('\n')}\n`;
}
