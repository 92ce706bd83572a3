import { emptyIndexState } from "../../node-service/src/domain/entities";
import { computeMetricsUncached } from "../../node-service/src/metrics/compute";
const s = emptyIndexState();
for (let i = 0; i < 300; i++) computeMetricsUncached(s, "0x00000000000000000000000000000000000000e1", 1_900_000_000 + i * 86400);
const t = process.hrtime.bigint();
for (let i = 0; i < 1000; i++) computeMetricsUncached(s, "0x00000000000000000000000000000000000000e1", 1_900_000_000 + i * 86400);
console.log("eval ms", Number(process.hrtime.bigint() - t) / 1e6 / 1000);
