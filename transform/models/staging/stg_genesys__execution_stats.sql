-- One row per campaign and bucket of the conversations aggregates; local dates in the bucket's own timeZone.
{%- set src = source('genesys', 'execution_stats') %}
with stats as (
    select
        "campaignId" as campaign_id,
        {{ utc(src, 'intervalStart') }} as interval_start_utc,
        {{ utc(src, 'intervalEnd') }} as interval_end_utc,
        "granularity" as granularity,
        coalesce("timeZone", 'UTC') as time_zone,
        cast("callsPlaced" as bigint) as calls_placed,
        cast("callsAttempted" as bigint) as calls_attempted,
        cast("callsConnected" as bigint) as calls_connected,
        cast("callsAbandoned" as bigint) as calls_abandoned,
        cast("connectRate" as double precision) as connect_rate,
        cast("abandonRate" as double precision) as abandon_rate,
        cast("talkSeconds" as double precision) as talk_seconds,
        cast("holdSeconds" as double precision) as hold_seconds,
        cast("acwSeconds" as double precision) as acw_seconds,
        cast("handleSeconds" as double precision) as handle_seconds
    from {{ src }}
)

select
    *,
    cast({{ to_local('interval_start_utc', 'time_zone') }} as date) as interval_date_local
from stats
