// The one logger: a JSON line per entry (Powertools for AWS Lambda's Logger), the same on Lambda
// and locally. Level from POWERTOOLS_LOG_LEVEL (default INFO); WARN and ERROR lines go to stderr.
// An Error given as the only extra argument, or under any key (`{ id, error }`), is written with
// its name, message and stack.
import { Logger } from '@aws-lambda-powertools/logger';

export const log = new Logger({ serviceName: 'responses-gateway' });
