import { type Account, type Algo, type Attachment, EPS, fmt, type Leg, type OkxBook, type Order, type Position, positionKey } from './okx-book.js';
import { stepDecimals, swapOf, SWAPS } from './okx-markets.js';

/**
 * JSON answers of OKX v5, field for field as the docs' response tables list
 * them: every number a string, "" where a field does not apply, contracts
 * (not base currency) in sz / accFillSz / pos.
 */

const lotDigits = (instId: string) => stepDecimals(swapOf(instId)?.lotSz ?? '0.00000001');
const sz = (instId: string, x: number) => fmt(x, lotDigits(instId));
const px = (x: number | null | undefined) => (x === null || x === undefined || x === 0 ? '' : fmt(x));
const legPx = (l: Leg | undefined, field: 'triggerPx' | 'ordPx') => (l ? fmt(l[field]) : '');

function attachView(a: Attachment, instId: string): Record<string, unknown> {
  return {
    amendPxOnTriggerType: '0',
    attachAlgoClOrdId: a.attachAlgoClOrdId,
    attachAlgoId: a.attachAlgoId,
    failCode: a.failCode,
    failReason: a.failReason,
    slOrdPx: legPx(a.sl, 'ordPx'),
    slTriggerPx: legPx(a.sl, 'triggerPx'),
    slTriggerPxType: a.sl?.type ?? '',
    slTriggerRatio: '',
    sz: a.sz === undefined ? '' : sz(instId, a.sz),
    tpOrdKind: 'condition',
    tpOrdPx: legPx(a.tp, 'ordPx'),
    tpTriggerPx: legPx(a.tp, 'triggerPx'),
    tpTriggerPxType: a.tp?.type ?? '',
    tpTriggerRatio: '',
  };
}

/** `GET /trade/order`, `/trade/orders-pending`, `/trade/orders-history`. */
export function orderView(o: Order): Record<string, unknown> {
  const first = o.attach[0];
  const tp = o.attach.find((a) => a.tp)?.tp;
  const sl = o.attach.find((a) => a.sl)?.sl;
  return {
    accFillSz: sz(o.instId, o.accFillSz),
    algoClOrdId: o.algoClOrdId,
    algoId: o.algoId,
    attachAlgoClOrdId: first?.attachAlgoClOrdId ?? '',
    attachAlgoOrds: o.attach.map((a) => attachView(a, o.instId)),
    avgPx: o.accFillSz > EPS ? fmt(o.avgPx) : '',
    cTime: String(o.cTime),
    cancelSource: o.cancelSource,
    cancelSourceReason: o.cancelSource === '31' ? 'The post-only order will take liquidity in maker orders' : o.cancelSource === '1' ? 'Order canceled by system' : '',
    category: 'normal',
    ccy: '',
    clOrdId: o.clOrdId,
    fee: fmt(o.fee),
    feeCcy: 'USDT',
    fillPx: px(o.fillPx),
    fillSz: o.fillSz > 0 ? sz(o.instId, o.fillSz) : '0',
    fillTime: o.fillTime ? String(o.fillTime) : '',
    instId: o.instId,
    instType: 'SWAP',
    isTpLimit: 'false',
    lever: fmt(o.lever),
    linkedAlgoOrd: { algoId: '' },
    ordId: o.ordId,
    ordType: o.ordType,
    pnl: fmt(o.pnl),
    posSide: o.posSide,
    px: px(o.px),
    pxType: '',
    pxUsd: '',
    pxVol: '',
    quickMgnType: '',
    rebate: '0',
    rebateCcy: 'USDT',
    reduceOnly: String(o.reduceOnly),
    side: o.side,
    slOrdPx: legPx(sl, 'ordPx'),
    slTriggerPx: legPx(sl, 'triggerPx'),
    slTriggerPxType: sl?.type ?? '',
    source: o.source,
    state: o.state,
    stpId: '',
    stpMode: 'cancel_maker',
    sz: sz(o.instId, o.sz),
    tag: o.tag,
    tdMode: o.tdMode,
    tgtCcy: '',
    tpOrdPx: legPx(tp, 'ordPx'),
    tpTriggerPx: legPx(tp, 'triggerPx'),
    tpTriggerPxType: tp?.type ?? '',
    tradeId: o.tradeId,
    tradeQuoteCcy: '',
    uTime: String(o.uTime),
  };
}

/** `GET /trade/order-algo`, `/trade/orders-algo-pending`, `/trade/orders-algo-history`. */
export function algoView(a: Algo): Record<string, unknown> {
  return {
    activePx: '',
    actualPx: a.actualPx,
    actualSide: a.actualSide,
    actualSz: a.actualSz === '' ? '0' : sz(a.instId, Number(a.actualSz)),
    algoClOrdId: a.algoClOrdId,
    algoId: a.algoId,
    amendPxOnTriggerType: '0',
    attachAlgoOrds: [],
    cTime: String(a.cTime),
    callbackRatio: '',
    callbackSpread: '',
    ccy: '',
    chaseType: '',
    chaseVal: '',
    clOrdId: a.clOrdId,
    closeFraction: a.closeFraction,
    failCode: a.failCode,
    instId: a.instId,
    instType: 'SWAP',
    isTradeBorrowMode: '',
    last: fmt(a.last),
    lever: fmt(a.lever),
    linkedOrd: { ordId: '' },
    maxChaseType: '',
    maxChaseVal: '',
    moveTriggerPx: '',
    ordId: a.ordId,
    ordIdList: a.ordId ? [a.ordId] : [],
    ordPx: a.trigger ? (a.trigger.ordPx === -1 ? '-1' : fmt(a.trigger.ordPx)) : '',
    ordType: a.ordType,
    posSide: a.posSide,
    pxLimit: '',
    pxSpread: '',
    pxVar: '',
    quickMgnType: '',
    reduceOnly: String(a.reduceOnly),
    side: a.side,
    slOrdPx: legPx(a.sl, 'ordPx'),
    slTriggerPx: legPx(a.sl, 'triggerPx'),
    slTriggerPxType: a.sl?.type ?? '',
    state: a.state,
    sz: a.sz === null ? '' : sz(a.instId, a.sz),
    szLimit: '',
    tag: a.tag,
    tdMode: a.tdMode,
    tgtCcy: '',
    timeInterval: '',
    tpOrdPx: legPx(a.tp, 'ordPx'),
    tpTriggerPx: legPx(a.tp, 'triggerPx'),
    tpTriggerPxType: a.tp?.type ?? '',
    triggerPx: a.trigger ? fmt(a.trigger.triggerPx) : '',
    triggerPxType: a.trigger?.type ?? '',
    triggerTime: a.triggerTime ? String(a.triggerTime) : '',
    tradeQuoteCcy: '',
    uTime: String(a.uTime),
  };
}

/** `GET /account/positions` row; a closed position (pos 0) keeps its posId but loses its figures. */
export function positionView(book: OkxBook, account: Account, p: Position): Record<string, unknown> {
  const open = Math.abs(p.pos) > EPS;
  const mark = book.mark(p.instId);
  const lever = book.leverOf(account, p.instId, p.mgnMode, p.posSide);
  const upl = open ? book.upl(p) : 0;
  const imr = open ? book.imr(account, p) : 0;
  const margin = p.mgnMode === 'isolated' ? p.margin : imr;
  const liq = open ? book.liquidationPrice(account, p) : 0;
  const closers = account.algos.filter((a) => a.state === 'live' && a.closeFraction === '1' && a.instId === p.instId && a.tdMode === p.mgnMode && book.positionSideFor(account, a) === p.posSide);
  const t = book.totals(account);
  return {
    adl: open ? '1' : '',
    availPos: '',
    avgPx: open ? fmt(p.avgPx) : '',
    baseBal: '',
    baseBorrowed: '',
    baseInterest: '',
    bePx: '',
    bizRefId: '',
    bizRefType: '',
    cTime: String(p.cTime),
    ccy: 'USDT',
    clSpotInUseAmt: '',
    closeOrderAlgo: closers.map((a) => ({
      algoId: a.algoId,
      closeFraction: a.closeFraction,
      slTriggerPx: legPx(a.sl, 'triggerPx'),
      slTriggerPxType: a.sl?.type ?? '',
      tpTriggerPx: legPx(a.tp, 'triggerPx'),
      tpTriggerPxType: a.tp?.type ?? '',
    })),
    deltaBS: '',
    deltaPA: '',
    fee: fmt(p.fee),
    fundingFee: '0',
    gammaBS: '',
    gammaPA: '',
    hedgedPos: '',
    idxPx: fmt(mark),
    imr: p.mgnMode === 'cross' && open ? fmt(imr) : '',
    instId: p.instId,
    instType: 'SWAP',
    interest: '',
    last: fmt(mark),
    lever: fmt(lever),
    liab: '',
    liabCcy: '',
    liqPenalty: '0',
    liqPx: liq > 0 ? fmt(liq) : '',
    margin: p.mgnMode === 'isolated' && open ? fmt(p.margin) : '',
    markPx: fmt(mark),
    maxSpotInUseAmt: '',
    mgnMode: p.mgnMode,
    mgnRatio: open && t.mmr > 0 ? fmt(p.mgnMode === 'cross' ? t.eq / t.mmr : (p.margin + upl) / book.mmr(p)) : '',
    mmr: open ? fmt(book.mmr(p)) : '',
    nonSettleAvgPx: '',
    notionalUsd: open ? fmt(book.notional(p)) : '',
    optVal: '',
    pendingCloseOrdLiabVal: '',
    pnl: fmt(p.pnl),
    pos: sz(p.instId, p.pos),
    posCcy: '',
    posId: p.posId,
    posSide: p.posSide,
    quoteBal: '',
    quoteBorrowed: '',
    quoteInterest: '',
    realizedPnl: fmt(p.pnl + p.fee),
    settledPnl: '',
    spotInUseAmt: '',
    spotInUseCcy: '',
    thetaBS: '',
    thetaPA: '',
    tradeId: p.tradeId,
    uTime: String(p.uTime),
    upl: fmt(upl),
    uplLastPx: fmt(upl),
    uplRatio: margin > EPS ? fmt(upl / margin) : '0',
    uplRatioLastPx: margin > EPS ? fmt(upl / margin) : '0',
    usdPx: '1',
    vegaBS: '',
    vegaPA: '',
  };
}

/**
 * `GET /account/positions`. Without instId only open positions; with it,
 * also the instrument's closed positions still holding a posId ("If the
 * instrument ever had position and its open interest is 0, it will return
 * the position information with specific instId").
 */
export function positionsView(book: OkxBook, account: Account, instIds: string[] | null): unknown[] {
  const rows = [...account.positions.values()]
    .filter((p) => (instIds ? instIds.includes(p.instId) : Math.abs(p.pos) > EPS))
    .sort((a, b) => b.cTime - a.cTime);
  return rows.map((p) => positionView(book, account, p));
}

/** `GET /account/balance` of a Futures-mode account holding USDT only. */
export function balanceView(book: OkxBook, account: Account, now: number): unknown[] {
  const t = book.totals(account);
  const usdt = {
    accAvgPx: '',
    autoLendMtAmt: '0',
    autoLendStatus: 'off',
    availBal: fmt(t.availBal),
    availEq: fmt(t.availEq),
    borrowFroz: '',
    cashBal: fmt(t.cashBal),
    ccy: 'USDT',
    clSpotInUseAmt: '',
    colBorrAutoConversion: '0',
    colRes: '0',
    collateralEnabled: false,
    collateralRestrict: false,
    crossLiab: '',
    disEq: fmt(t.eq),
    eq: fmt(t.eq),
    eqUsd: fmt(t.eq),
    fixedBal: '0',
    frozenBal: fmt(t.frozen),
    frpType: '0',
    imr: t.crossImr > 0 ? fmt(t.crossImr + t.ordFrozen) : '',
    interest: '',
    isoEq: fmt(t.isoEq),
    isoLiab: '',
    isoUpl: fmt(t.isoUpl),
    liab: '',
    maxLoan: '',
    maxSpotInUse: '',
    mgnRatio: t.mmr > 0 ? fmt(t.eq / t.mmr) : '',
    mmr: t.mmr > 0 ? fmt(t.mmr) : '',
    notionalLever: t.eq > 0 ? fmt(t.notional / t.eq) : '',
    openAvgPx: '',
    ordFrozen: fmt(t.ordFrozen),
    rewardBal: '0',
    smtSyncEq: '0',
    spotBal: '',
    spotCopyTradingEq: '0',
    spotInUseAmt: '',
    spotIsoBal: '0',
    spotUpl: '',
    spotUplRatio: '',
    stgyEq: '0',
    totalPnl: '',
    totalPnlRatio: '',
    twap: '0',
    uTime: String(now),
    upl: fmt(t.upl),
    uplLiab: '',
  };
  return [
    {
      adjEq: '',
      availEq: '',
      borrowFroz: '',
      delta: '',
      deltaLever: '',
      deltaNeutralStatus: '0',
      details: t.eq !== 0 || t.cashBal !== 0 ? [usdt] : [],
      imr: '',
      isoEq: fmt(t.isoEq),
      mgnRatio: '',
      mmr: '',
      notionalUsd: fmt(t.notional),
      notionalUsdForBorrow: '',
      notionalUsdForFutures: '',
      notionalUsdForOption: '',
      notionalUsdForSwap: '',
      ordFroz: '',
      totalEq: fmt(t.eq),
      uTime: String(now),
      upl: '',
    },
  ];
}

/** `GET /account/config`: a Futures-mode (acctLv 2) main account. */
export function configView(account: Account): unknown[] {
  return [
    {
      acctLv: '2',
      acctStpMode: 'cancel_maker',
      autoLoan: false,
      ctIsoMode: 'automatic',
      enableSpotBorrow: false,
      feeType: '0',
      greeksType: 'PA',
      ip: '',
      kycLv: '3',
      label: 'tradectl simulator',
      level: 'Lv1',
      levelTmp: '',
      liquidationGear: '-1',
      mainUid: account.uid,
      mgnIsoMode: 'automatic',
      opAuth: '0',
      perm: 'read_only,trade',
      posMode: account.posMode,
      roleType: '0',
      settleCcy: 'USDC',
      settleCcyList: ['USD', 'USDC', 'USDG'],
      spotBorrowAutoRepay: false,
      spotOffsetType: '',
      spotRoleType: '0',
      spotTraderInsts: [],
      stgyType: '0',
      traderInsts: [],
      type: '0',
      uid: account.uid,
    },
  ];
}

/** `GET /account/leverage-info`: in long/short mode both sides are returned. */
export function leverageView(book: OkxBook, account: Account, instIds: string[], mgnMode: 'cross' | 'isolated'): unknown[] {
  const sides = account.posMode === 'long_short_mode' ? (['long', 'short'] as const) : (['net'] as const);
  return instIds.flatMap((instId) => sides.map((posSide) => ({ ccy: '', instId, lever: fmt(book.leverOf(account, instId, mgnMode, posSide)), mgnMode, posSide })));
}

/** `GET /market/ticker(s)` and `/public/mark-price`, all from the one settable price. */
export function tickerView(book: OkxBook, instId: string, now: number): Record<string, unknown> {
  const last = fmt(book.mark(instId));
  return {
    instType: 'SWAP', instId, last, lastSz: '1', askPx: last, askSz: '100', bidPx: last, bidSz: '100',
    open24h: last, high24h: last, low24h: last, volCcy24h: '0', vol24h: '0', sodUtc0: last, sodUtc8: last, ts: String(now),
  };
}

export function markPriceView(book: OkxBook, instId: string, now: number): Record<string, unknown> {
  return { instId, instType: 'SWAP', markPx: fmt(book.mark(instId)), ts: String(now) };
}

export const SWAP_IDS = SWAPS.map((m) => m.instId);
export { positionKey };
