/**
 * The EC2 SDK pieces the price backfill uses, in a module of their own: the deployed job ships it as
 * a separate bundle beside index.mjs (job-table `lazyBundles`), loaded only when a backfill runs —
 * the EC2 client is larger than the rest of the function and no scheduled run needs it.
 */
export { DescribeSpotPriceHistoryCommand, EC2Client } from '@aws-sdk/client-ec2';
