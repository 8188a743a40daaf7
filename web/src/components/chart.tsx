import {
  CandlestickSeries,
  createChart,
  type IChartApi,
  type ISeriesApi,
  LineSeries,
  type UTCTimestamp,
} from 'lightweight-charts';
import { useEffect, useRef } from 'preact/hooks';

/** One bar of the chart. The chart draws with numbers: these are for plotting only, never for money. */
export interface Bar {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
}

/** One point of a line chart (time in s, the value for plotting only). */
export interface Point {
  time: number;
  value: number;
}

const dark = () => window.matchMedia('(prefers-color-scheme: dark)').matches;

function themeOptions() {
  const isDark = dark();
  return {
    layout: {
      background: { color: 'transparent' },
      textColor: isDark ? '#d7dbe0' : '#1d232a',
      // The logo inserts a <style> element, which the CSP refuses: the footer links TradingView instead.
      attributionLogo: false,
    },
    grid: {
      vertLines: { color: isDark ? '#2a3038' : '#e6e9ed' },
      horzLines: { color: isDark ? '#2a3038' : '#e6e9ed' },
    },
  };
}

/**
 * A TradingView lightweight-charts chart: candles (`bars`) or a line (`points`). `last` moves the
 * last candle (or adds one) without redrawing the rest; the theme follows the system setting.
 */
export function Chart(props: { label: string; bars?: Bar[]; points?: Point[]; last?: Bar }) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<IChartApi>();
  const series = useRef<ISeriesApi<'Candlestick'> | ISeriesApi<'Line'>>();
  const candles = props.bars !== undefined;

  useEffect(() => {
    if (!box.current) return;
    const made = createChart(box.current, {
      autoSize: true,
      ...themeOptions(),
      timeScale: { timeVisible: true, secondsVisible: false },
    });
    chart.current = made;
    series.current = candles
      ? made.addSeries(CandlestickSeries, {
          upColor: '#1a9e5c',
          downColor: '#d6453d',
          wickUpColor: '#1a9e5c',
          wickDownColor: '#d6453d',
          borderVisible: false,
        })
      : made.addSeries(LineSeries, { color: '#3b7dd8', lineWidth: 2 });
    const scheme = window.matchMedia('(prefers-color-scheme: dark)');
    const onScheme = () => made.applyOptions(themeOptions());
    scheme.addEventListener('change', onScheme);
    return () => {
      scheme.removeEventListener('change', onScheme);
      made.remove();
      chart.current = undefined;
    };
  }, [candles]);

  useEffect(() => {
    const s = series.current;
    if (!s) return;
    if (props.bars)
      (s as ISeriesApi<'Candlestick'>).setData(
        props.bars.map((b) => ({ ...b, time: b.time as UTCTimestamp })),
      );
    if (props.points)
      (s as ISeriesApi<'Line'>).setData(props.points.map((p) => ({ ...p, time: p.time as UTCTimestamp })));
    chart.current?.timeScale().fitContent();
  }, [props.bars, props.points]);

  useEffect(() => {
    const s = series.current;
    if (!s || !props.last || !candles) return;
    (s as ISeriesApi<'Candlestick'>).update({ ...props.last, time: props.last.time as UTCTimestamp });
  }, [props.last, candles]);

  return <div class="chart" ref={box} role="img" aria-label={props.label} />;
}
