//! The merchant's dashboard: `GET /api/stats` over a range of days in a time
//! zone. [`range`] checks the range and turns it into windows a store can
//! count over ([`crate::store::stats`]); [`assemble`] turns the counts into
//! the answer ([`model`]): every day of the range, zero days included, the
//! previous period of the same length, amounts rounded.

pub mod model;
pub mod range;

pub use model::{
    Day, Devices, Funnel, Headline, Money, PageRow, Previous, ProductRow, ShopifyOrders, SourceRow, Stats,
};
use range::{epoch_day, DayRange};

use crate::store::stats::{Breakdown, Counts};

/// Rounds an amount to a millionth: sums of decimal prices in binary floating
/// point differ in the last bits with the order of addition.
pub fn round_amount(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Amounts rounded, sorted by currency.
pub fn money(mut list: Vec<Money>) -> Vec<Money> {
    for m in &mut list {
        m.amount = round_amount(m.amount);
    }
    list.sort_by(|a, b| a.currency.cmp(&b.currency));
    list
}

/// The headline of counted figures.
pub fn headline(c: &Counts) -> Headline {
    Headline {
        visitors: c.visitors,
        sessions: c.sessions,
        pageviews: c.pageviews,
        bounce_rate: if c.sessions == 0 { 0.0 } else { c.bounced as f64 / c.sessions as f64 },
        orders: c.orders,
        revenue: money(c.revenue.clone()),
    }
}

/// What the stores counted, for the range and the period before it.
#[derive(Debug, Clone)]
pub struct Counted {
    pub current: Counts,
    pub breakdown: Breakdown,
    pub previous: Counts,
    pub shopify_orders: ShopifyOrders,
}

/// The answer of `/api/stats`.
pub fn assemble(range: &DayRange, counted: Counted) -> Stats {
    let Counted { current, breakdown, previous, mut shopify_orders } = counted;
    let days = range
        .dates()
        .map(|date| {
            let n = epoch_day(date);
            let found = breakdown.days.iter().find(|d| d.day == n);
            Day {
                date: date.to_string(),
                visitors: found.map_or(0, |d| d.visitors),
                pageviews: found.map_or(0, |d| d.pageviews),
                orders: found.map_or(0, |d| d.orders),
            }
        })
        .collect();
    let before = range.previous();
    shopify_orders.revenue = money(shopify_orders.revenue);
    shopify_orders.refunds = money(shopify_orders.refunds);
    Stats {
        from: range.from.to_string(),
        to: range.to.to_string(),
        tz: range.tz_name.clone(),
        headline: headline(&current),
        funnel: current.funnel,
        days,
        top_pages: breakdown.pages,
        sources: breakdown.sources,
        devices: breakdown.devices,
        top_products: breakdown.products,
        previous: Previous {
            from: before.from.to_string(),
            to: before.to.to_string(),
            headline: headline(&previous),
            funnel: previous.funnel,
        },
        shopify_orders,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::stats::DayCount;

    #[test]
    fn every_day_of_the_range_is_there_and_the_previous_period_is_named() {
        let range = DayRange::parse(Some("2026-02-27"), Some("2026-03-02"), Some("UTC")).expect("range");
        let day = |d: &str| epoch_day(d.parse().expect("date"));
        let counted = Counted {
            current: Counts {
                visitors: 3,
                sessions: 4,
                bounced: 1,
                pageviews: 9,
                revenue: vec![
                    Money { currency: "USD".into(), amount: 0.1 + 0.2 },
                    Money { currency: "EUR".into(), amount: 5.0 },
                ],
                ..Counts::default()
            },
            breakdown: Breakdown {
                days: vec![DayCount { day: day("2026-03-01"), visitors: 2, pageviews: 5, orders: 1 }],
                ..Breakdown::default()
            },
            previous: Counts::default(),
            shopify_orders: ShopifyOrders::default(),
        };
        let stats = assemble(&range, counted);
        let dates: Vec<&str> = stats.days.iter().map(|d| d.date.as_str()).collect();
        assert_eq!(dates, ["2026-02-27", "2026-02-28", "2026-03-01", "2026-03-02"]);
        assert_eq!(stats.days[2], Day { date: "2026-03-01".into(), visitors: 2, pageviews: 5, orders: 1 });
        assert_eq!(stats.days[0].pageviews, 0);
        assert_eq!(stats.headline.bounce_rate, 0.25);
        assert_eq!(
            stats.headline.revenue,
            [Money { currency: "EUR".into(), amount: 5.0 }, Money { currency: "USD".into(), amount: 0.3 }]
        );
        assert_eq!((stats.previous.from.as_str(), stats.previous.to.as_str()), ("2026-02-23", "2026-02-26"));
        assert_eq!(stats.previous.headline.bounce_rate, 0.0, "no sessions: no division by zero");
        let json = serde_json::to_value(&stats).expect("json");
        for key in ["visitors", "bounceRate", "topPages", "topProducts", "shopifyOrders", "previous", "days"]
        {
            assert!(json.get(key).is_some(), "{key} in {json}");
        }
        assert!(json["previous"].get("pageviews").is_some());
    }
}
