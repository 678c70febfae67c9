import type { LatestTransaction } from '@/lib/oltp/status.ts';
import { maskCard, utcTime } from './format.ts';

/** The newest transactions the sink applied, joined back to their customer, merchant and city. Every value is text. */
export function LatestTransactions({ rows }: { rows: LatestTransaction[] }) {
  if (!rows.length) {
    return (
      <p className="empty" data-testid="oltp-latest-empty">
        No transactions in the database yet.
      </p>
    );
  }
  return (
    <div className="oltp-latest-wrap">
      <table className="oltp-latest" data-testid="oltp-latest">
        <thead>
          <tr>
            <th>trans_num</th>
            <th>time (UTC)</th>
            <th className="num">amount</th>
            <th>customer</th>
            <th>merchant</th>
            <th>category</th>
            <th>city</th>
            <th>fraud</th>
            <th>source</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((t) => (
            <tr key={t.trans_num} data-trans-num={t.trans_num}>
              <td>
                <code>{t.trans_num}</code>
              </td>
              <td>{utcTime(t.timestamp)}</td>
              <td className="num">{t.amount ?? '—'}</td>
              <td className="wrap narrow">
                {t.customer || '—'} <span className="muted card">{maskCard(t.cc_num)}</span>
              </td>
              <td className="wrap">{t.merchant ?? '—'}</td>
              <td>{t.category ?? '—'}</td>
              <td className="wrap narrow">{t.city ? `${t.city}${t.state ? `, ${t.state}` : ''}` : '—'}</td>
              <td>{t.is_fraud === null ? '—' : t.is_fraud ? <strong className="error">fraud</strong> : 'no'}</td>
              <td className="source">
                {t.source}
                {t.redrive_job ? (
                  <>
                    {' '}
                    <br />
                    <span className="muted">
                      job <code>{t.redrive_job}</code>
                    </span>
                  </>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
