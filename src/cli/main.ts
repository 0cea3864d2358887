import { Command } from 'commander';
import { registerBundleCommand } from './bundle-commands.js';
import { registerCenterCommands } from './center-commands.js';
import { registerNodeCommands } from '../node/commands.js';
import { runProgram } from '../process/run-program.js';

/** `tradectl`: every subcommand. */
const program = new Command('tradectl').description('signal execution for crypto copy trading: center, execution nodes, bundle');
registerNodeCommands(program.command('node').description('run an execution node (no database, no Redis)'));
registerCenterCommands(program);
registerBundleCommand(program);

// Exit explicitly: idle keep-alive sockets to exchanges would otherwise hold
// the process open for seconds after a graceful stop.
process.exit(await runProgram(program, process.argv));
