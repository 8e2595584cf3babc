// The admission policy shared by the planner's timeline and the live engine (see admission-policy.ts).
export { admissionWait, concurrencyWait, type AdmissionLimits, type AdmissionState, type Candidate, type Headroom, type Wait, type WaitKind } from './admission-policy.ts';
export { budgetHeadroom, type Capacity } from './budget-headroom.ts';
export { OutOfService, type Id, type ServiceHost } from './out-of-service.ts';
export { TierBarrier } from './tier-barrier.ts';
