-- campaign_daily (attempt rows per campaign and local day) against execution_stats' callsPlaced (nOutbound) of the
-- same campaign and day, over the local days execution_stats covers (it omits empty buckets and whole days are
-- read only once closed, so days outside its range are not compared). Returns the disagreeing campaign-days,
-- and one row when var time_zone is not the zone execution_stats was bucketed in (set it to the tap's time_zone).
with stats as (
    select campaign_id, interval_date_local as day_local, sum(calls_placed) as calls_placed
    from {{ ref('stg_genesys__execution_stats') }}
    where granularity is null or granularity <> 'P1M'
    group by campaign_id, interval_date_local
),

covered as (
    select min(day_local) as first_day, max(day_local) as last_day from stats
),

daily as (
    select campaign_id, day_local, attempts
    from {{ ref('campaign_daily') }}
    where day_local between (select first_day from covered) and (select last_day from covered)
),

compared as (
    select
        coalesce(daily.campaign_id, stats.campaign_id) as campaign_id,
        coalesce(daily.day_local, stats.day_local) as day_local,
        coalesce(daily.attempts, 0) as attempts,
        coalesce(stats.calls_placed, 0) as calls_placed,
        'callsPlaced differs from the attempts rows' as problem
    from daily
    full outer join stats
        on stats.campaign_id = daily.campaign_id and stats.day_local = daily.day_local
)

select * from compared where attempts <> calls_placed
union all
select distinct cast(null as varchar), cast(null as date), cast(null as bigint), cast(null as bigint),
       'execution_stats is bucketed in ' || time_zone || ', var time_zone is {{ genesys_time_zone() }}'
from {{ ref('stg_genesys__execution_stats') }}
where time_zone <> '{{ genesys_time_zone() }}'
