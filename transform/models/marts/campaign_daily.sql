-- Per campaign and local day (var time_zone): attempts by status, rates, handle times, and the execution_stats
-- figures of the same day side by side (tests/assert_campaign_daily_reconciles_with_execution_stats.sql
-- compares them).
with attempts as (
    select * from {{ ref('stg_genesys__attempts') }}
),

daily as (
    select
        campaign_id,
        attempt_date_local as day_local,
        count(*) as attempts,
        {%- for status in var('attempt_statuses') %}
        sum(case when status = '{{ status }}' then 1 else 0 end) as {{ status | lower }}_attempts,
        {%- endfor %}
        sum(case when is_live_person then 1 else 0 end) as live_person_attempts,
        sum(talk_seconds) as talk_seconds,
        sum(hold_seconds) as hold_seconds,
        sum(acw_seconds) as acw_seconds,
        sum(handle_seconds) as handle_seconds,
        avg(handle_seconds) as avg_handle_seconds,
        sum(case when quality_flag_count > 0 then 1 else 0 end) as flagged_attempts
    from attempts
    group by campaign_id, attempt_date_local
),

stats as (
    select
        campaign_id,
        interval_date_local as day_local,
        min(time_zone) as stats_time_zone,
        sum(calls_placed) as stats_calls_placed,
        sum(calls_attempted) as stats_calls_attempted,
        sum(calls_connected) as stats_calls_connected,
        sum(calls_abandoned) as stats_calls_abandoned
    from {{ ref('stg_genesys__execution_stats') }}
    where granularity is null or granularity <> 'P1M'
    group by campaign_id, interval_date_local
)

select
    daily.campaign_id,
    campaigns.campaign_name,
    daily.day_local,
    '{{ genesys_time_zone() }}' as time_zone,
    daily.attempts,
    {%- for status in var('attempt_statuses') %}
    daily.{{ status | lower }}_attempts,
    {%- endfor %}
    daily.live_person_attempts,
    -- share of attempts a live person answered (CONNECTED + ABANDONED)
    cast(daily.live_person_attempts as double precision) / daily.attempts as connect_rate,
    -- abandoned among the answered calls (Genesys' definition)
    case when daily.live_person_attempts > 0
         then cast(daily.abandoned_attempts as double precision) / daily.live_person_attempts end as abandon_rate,
    daily.talk_seconds,
    daily.hold_seconds,
    daily.acw_seconds,
    daily.handle_seconds,
    daily.avg_handle_seconds,
    daily.flagged_attempts,
    stats.stats_time_zone,
    stats.stats_calls_placed,
    stats.stats_calls_attempted,
    stats.stats_calls_connected,
    stats.stats_calls_abandoned,
    stats.stats_calls_placed = daily.attempts as reconciles_with_execution_stats
from daily
left join stats
    on stats.campaign_id = daily.campaign_id and stats.day_local = daily.day_local
left join {{ ref('stg_genesys__campaigns') }} as campaigns
    on campaigns.campaign_id = daily.campaign_id
