export { ordersDailyEtl } from './orders-daily-etl';
