/**
 * `GET /api/v5/public/instruments` of the simulator. The swap records copy
 * the live venue's fields (BTC-USDT-SWAP and ETH-USDT-SWAP as recorded in
 * 2025-2026: lotSz = minSz = 0.01 contract; DOGE-USDT-SWAP with its
 * 1000-DOGE contract as ccxt's static market file records it), because ccxt
 * derives `contractSize` from ctVal, `precision.amount` from lotSz (in
 * CONTRACTS), `limits.amount.min` from minSz and `limits.leverage.max` from
 * lever, and the order checks reject exactly what those fields allow.
 */
export interface OkxInstrument {
  instId: string;
  /** Unified ccxt symbol. */
  symbol: string;
  instType: 'SWAP' | 'SPOT';
  base: string;
  /** Base currency per contract (swaps); '' for spot. */
  ctVal: string;
  lotSz: string;
  minSz: string;
  tickSz: string;
  /** Highest leverage of the first tier. */
  lever: string;
  maxLmtSz: string;
  maxMktSz: string;
  maxStopSz: string;
  listTime: string;
  instIdCode: number;
  /** Tier-1 maintenance margin rate (position tiers endpoint). */
  mmr: number;
}

export const SWAPS: readonly OkxInstrument[] = [
  {
    instId: 'BTC-USDT-SWAP', symbol: 'BTC/USDT:USDT', instType: 'SWAP', base: 'BTC',
    ctVal: '0.01', lotSz: '0.01', minSz: '0.01', tickSz: '0.1', lever: '100',
    maxLmtSz: '100000000', maxMktSz: '35000', maxStopSz: '35000', listTime: '1573557408000', instIdCode: 10459, mmr: 0.004,
  },
  {
    instId: 'ETH-USDT-SWAP', symbol: 'ETH/USDT:USDT', instType: 'SWAP', base: 'ETH',
    ctVal: '0.1', lotSz: '0.01', minSz: '0.01', tickSz: '0.01', lever: '100',
    maxLmtSz: '100000000', maxMktSz: '90000', maxStopSz: '90000', listTime: '1573557408000', instIdCode: 10461, mmr: 0.004,
  },
  {
    instId: 'SOL-USDT-SWAP', symbol: 'SOL/USDT:USDT', instType: 'SWAP', base: 'SOL',
    ctVal: '1', lotSz: '0.01', minSz: '0.01', tickSz: '0.01', lever: '50',
    maxLmtSz: '100000000', maxMktSz: '30000', maxStopSz: '30000', listTime: '1611916828000', instIdCode: 10596, mmr: 0.005,
  },
  {
    instId: 'DOGE-USDT-SWAP', symbol: 'DOGE/USDT:USDT', instType: 'SWAP', base: 'DOGE',
    ctVal: '1000', lotSz: '0.1', minSz: '0.1', tickSz: '0.00001', lever: '50',
    maxLmtSz: '100000000', maxMktSz: '12000', maxStopSz: '12000', listTime: '1611916828000', instIdCode: 10481, mmr: 0.005,
  },
];

/** Spot pairs are listed (ccxt asks for SPOT by default) but not traded here. */
export const SPOTS: readonly OkxInstrument[] = [
  {
    instId: 'BTC-USDT', symbol: 'BTC/USDT', instType: 'SPOT', base: 'BTC',
    ctVal: '', lotSz: '0.00000001', minSz: '0.00001', tickSz: '0.1', lever: '10',
    maxLmtSz: '9999999999', maxMktSz: '1000000', maxStopSz: '1000000', listTime: '1611907686000', instIdCode: 3, mmr: 0,
  },
  {
    instId: 'ETH-USDT', symbol: 'ETH/USDT', instType: 'SPOT', base: 'ETH',
    ctVal: '', lotSz: '0.000001', minSz: '0.0001', tickSz: '0.01', lever: '10',
    maxLmtSz: '999999999999', maxMktSz: '1000000', maxStopSz: '1000000', listTime: '1611907686000', instIdCode: 4, mmr: 0,
  },
];

export const DEFAULT_MARK_PRICES: Readonly<Record<string, number>> = {
  'BTC-USDT-SWAP': 60000,
  'ETH-USDT-SWAP': 3000,
  'SOL-USDT-SWAP': 150,
  'DOGE-USDT-SWAP': 0.15,
};

const BY_ID = new Map(SWAPS.map((m) => [m.instId, m]));
const BY_SYMBOL = new Map(SWAPS.map((m) => [m.symbol, m]));
const SPOT_IDS = new Set(SPOTS.map((m) => m.instId));

export function swapOf(instId: string | null | undefined): OkxInstrument | undefined {
  return instId ? BY_ID.get(instId) : undefined;
}

export function isSpot(instId: string | null | undefined): boolean {
  return instId !== null && instId !== undefined && SPOT_IDS.has(instId);
}

/** Accepts a unified symbol or an OKX instId (the control surface takes either). */
export function swapBySymbol(symbol: string): OkxInstrument | undefined {
  return BY_SYMBOL.get(symbol) ?? BY_ID.get(symbol);
}

/** Decimal places a step allows ('0.00001' → 5, '1' → 0). */
export function stepDecimals(step: string): number {
  const dot = step.indexOf('.');
  return dot < 0 ? 0 : step.replace(/0+$/, '').length - dot - 1;
}

function record(m: OkxInstrument): Record<string, unknown> {
  const swap = m.instType === 'SWAP';
  return {
    alias: '',
    auctionEndTime: '',
    baseCcy: swap ? '' : m.base,
    category: '1',
    contTdSwTime: swap ? '1611916860000' : '',
    ctMult: swap ? '1' : '',
    ctType: swap ? 'linear' : '',
    ctVal: m.ctVal,
    ctValCcy: swap ? m.base : '',
    expTime: '',
    floatPxLmtPct: '0.005',
    freq: '',
    futureSettlement: false,
    groupId: swap ? '4' : '12',
    initPxLmtPct: swap ? '0.02' : '',
    instCategory: '1',
    instFamily: swap ? `${m.base}-USDT` : '',
    instId: m.instId,
    instIdCode: m.instIdCode,
    instType: m.instType,
    lever: m.lever,
    listTime: m.listTime,
    longPosRemainingQuota: '',
    lotSz: m.lotSz,
    maxIcebergSz: `${m.maxLmtSz}.0000000000000000`,
    maxLmtAmt: '20000000',
    maxLmtSz: m.maxLmtSz,
    maxMktAmt: swap ? '' : '1000000',
    maxMktSz: m.maxMktSz,
    maxPlatOICoinLmt: '',
    maxPlatOILmt: '',
    maxPxLmtPct: '0.01',
    maxStopSz: m.maxStopSz,
    maxTriggerSz: `${m.maxLmtSz}.0000000000000000`,
    maxTwapSz: `${m.maxLmtSz}.0000000000000000`,
    method: '',
    minSz: m.minSz,
    openType: swap ? 'call_auction' : 'fix_price',
    optType: '',
    posLmtAmt: swap ? '250000' : '',
    posLmtPct: swap ? '30' : '',
    preMktSwTime: '',
    quoteCcy: swap ? '' : 'USDT',
    rpiMinLevel: '3',
    rpiMinPxBand: '20',
    ruleType: 'normal',
    seriesId: '',
    settleCcy: swap ? 'USDT' : '',
    shortPosRemainingQuota: '',
    state: 'live',
    stk: '',
    tickSz: m.tickSz,
    tradeQuoteCcyList: swap ? [] : ['USDT'],
    uly: swap ? `${m.base}-USDT` : '',
    upcChg: [],
  };
}

export const INSTRUMENT_TYPES = new Set(['SPOT', 'MARGIN', 'SWAP', 'FUTURES', 'OPTION', 'EVENTS']);

/**
 * The instruments of one type. FUTURES and OPTION are answered with empty
 * lists (nothing dated is simulated) so that ccxt's default four-type
 * fetchMarkets completes, and each of its requests is still counted.
 */
export function instruments(instType: string, instId: string | null): unknown[] {
  const list = instType === 'SWAP' ? SWAPS : instType === 'SPOT' ? SPOTS : [];
  return list.filter((m) => !instId || m.instId === instId).map(record);
}

/** `GET /api/v5/asset/currencies` (ccxt's fetchCurrencies, called by loadMarkets when keys are set). */
export function currencies(): unknown[] {
  const chains: Record<string, [string, string, string]> = {
    USDT: ['USDT-TRC20', '1', '0.000001'],
    BTC: ['BTC-Bitcoin', '0.0005', '0.00000001'],
    ETH: ['ETH-ERC20', '0.001', '0.00000001'],
    SOL: ['SOL-Solana', '0.01', '0.000001'],
    DOGE: ['DOGE-Dogecoin', '4', '0.00000001'],
  };
  return Object.entries(chains).map(([ccy, [chain, fee, step]]) => ({
    burningFeeRate: '',
    canDep: true,
    canInternal: true,
    canWd: true,
    ccy,
    chain,
    ctAddr: '',
    depEstOpenTime: '',
    depQuotaFixed: '',
    depQuoteDailyLayer2: '',
    fee,
    logoLink: '',
    mainNet: true,
    maxFee: fee,
    maxFeeForCtAddr: '',
    maxWd: '10000000',
    minDep: step,
    minDepArrivalConfirm: '1',
    minFee: fee,
    minFeeForCtAddr: '',
    minInternal: step,
    minWd: fee,
    minWdUnlockConfirm: '1',
    name: ccy,
    needTag: false,
    usedDepQuotaFixed: '',
    usedWdQuota: '0',
    wdQuota: '10000000',
    wdTickSz: String(stepDecimals(step)),
  }));
}
