/** ABIs straight from the compiled artifacts (the build runs after `hardhat compile`). */
import { abi as consentAbi } from "../../artifacts/contracts/ConsentRegistry.sol/ConsentRegistry.json";
import { abi as loansAbi } from "../../artifacts/contracts/LoanAgreements.sol/LoanAgreements.json";
import { abi as notaryAbi } from "../../artifacts/contracts/EvidenceNotary.sol/EvidenceNotary.json";
import { abi as registryAbi } from "../../artifacts/contracts/ParticipantRegistry.sol/ParticipantRegistry.json";
import { abi as tokenAbi } from "../../artifacts/contracts/SettlementToken.sol/SettlementToken.json";
import { abi as ordersAbi } from "../../artifacts/contracts/TradeOrders.sol/TradeOrders.json";
import { abi as receivablesAbi } from "../../artifacts/contracts/Receivables.sol/Receivables.json";
import type { Abi } from "viem";
import type { ContractName } from "../../node-service/src/chain/contract-names";

export const ABI: Record<ContractName, Abi> = {
  ConsentRegistry: consentAbi as Abi,
  LoanAgreements: loansAbi as Abi,
  EvidenceNotary: notaryAbi as Abi,
  ParticipantRegistry: registryAbi as Abi,
  SettlementToken: tokenAbi as Abi,
  TradeOrders: ordersAbi as Abi,
  Receivables: receivablesAbi as Abi,
};
