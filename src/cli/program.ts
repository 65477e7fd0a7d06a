import { Command } from 'commander';
import { PACKAGE_VERSION } from '../package-info';
import { checkCommand } from './commands/check';
import { engineCommand } from './commands/engine';
import { testCommand } from './commands/test';
import { ingestCommand } from './commands/ingest';
import { validateCommand } from './commands/validate';
import { planCommand } from './commands/plan';
import { applyCommand } from './commands/apply';
import { statusCommand } from './commands/status';
import { uninstallCommand } from './commands/uninstall';
import { tuneCommand } from './commands/tune';
import { intelCommand } from './commands/intel';
import { rolesCommand } from './commands/roles';
import { correlateCommand } from './commands/correlate';
import { alertsCommand } from './commands/alerts';
import { demoCommand } from './commands/demo';
import { generateCommand } from './commands/generate';
import { benchCommand } from './commands/bench';
import { buildCommand } from './commands/build';


export function buildProgram(): Command {
  const program = new Command('cryptochannel')
    .description('Find C2 hidden in asymmetric-crypto channels (MITRE ATT&CK T1573.002) with Elasticsearch or OpenSearch')
    .version(PACKAGE_VERSION)
    .option('--json', 'print the result as JSON on stdout')
    .option('--config <file>', 'settings file (YAML); default ~/.config/cryptochannel/config.yaml')
    .option('--url <url>', 'cluster URL (env CRYPTOCHANNEL_URL)', undefined)
    .option('--kibana-url <url>', 'Kibana URL (env CRYPTOCHANNEL_KIBANA_URL)')
    .option('--kibana-space <space>', 'Kibana space for rules and dashboards (env CRYPTOCHANNEL_KIBANA_SPACE; default: default)')
    .option('--api-key <key>', 'API key (env CRYPTOCHANNEL_API_KEY)')
    .option('--username <name>', 'basic-auth user (env CRYPTOCHANNEL_USERNAME)')
    .option('--password <password>', 'basic-auth password (env CRYPTOCHANNEL_PASSWORD)')
    .option('--ca <file>', 'PEM file of the CA that signs the cluster certificate (env CRYPTOCHANNEL_CA)')
    .showHelpAfterError()
    .exitOverride();
  program.addCommand(engineCommand());
  program.addCommand(checkCommand());
  program.addCommand(validateCommand());
  program.addCommand(planCommand());
  program.addCommand(applyCommand());
  program.addCommand(statusCommand());
  program.addCommand(uninstallCommand());
  program.addCommand(tuneCommand());
  program.addCommand(intelCommand());
  program.addCommand(rolesCommand());
  program.addCommand(ingestCommand());
  program.addCommand(testCommand());
  program.addCommand(correlateCommand());
  program.addCommand(alertsCommand());
  program.addCommand(demoCommand());
  program.addCommand(generateCommand());
  program.addCommand(benchCommand());
  program.addCommand(buildCommand());
  overrideExits(program);
  return program;
}

/** Commander calls process.exit on usage errors unless every (sub)command overrides it; main maps them to exit 2. */
function overrideExits(command: Command): void {
  command.exitOverride();
  for (const sub of command.commands) overrideExits(sub);
}
