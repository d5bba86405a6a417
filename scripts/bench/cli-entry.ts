/** Entry of the compiled `dodo-slack` the benchmark runs (what the published package's dist/ runs, without ts-node). */
import { runCli } from '../../bin/dodo-slack';

runCli();
