-- Per campaign and local hour (var time_zone, wall clock), every hour of every local day from the campaign's
-- first to its last dialled day: attempts and connects are explicit zeros where nothing happened;
-- answer_rate is connects / attempts for hours the campaign dialled and null for hours it did not.
-- Wall-clock hours: the hour skipped by a DST spring-forward is a row with zeros, the hour repeated in the autumn
-- is one row holding both.
with attempts as (
    select * from {{ ref('stg_genesys__attempts') }}
),

hourly as (
    select campaign_id, attempt_hour_local as hour_local, count(*) as attempts,
           sum(case when is_live_person then 1 else 0 end) as connects
    from attempts
    group by campaign_id, attempt_hour_local
),

campaign_days as (
    select campaign_id, min(attempt_date_local) as first_day, max(attempt_date_local) as last_day
    from attempts
    group by campaign_id
),

hours as (
    select cast(hour_local as timestamp) as hour_local
    from generate_series(
        (select cast(min(attempt_date_local) as timestamp) from attempts),
        (select cast(max(attempt_date_local) as timestamp) + interval '23 hours' from attempts),
        interval '1 hour'
    ) as spine(hour_local)
),

grid as (
    select campaign_days.campaign_id, hours.hour_local
    from campaign_days
    join hours
        on hours.hour_local >= cast(campaign_days.first_day as timestamp)
       and hours.hour_local < cast(campaign_days.last_day as timestamp) + interval '1 day'
)

select
    grid.campaign_id,
    campaigns.campaign_name,
    grid.hour_local,
    cast(grid.hour_local as date) as day_local,
    cast(extract(hour from grid.hour_local) as integer) as hour_of_day,
    '{{ genesys_time_zone() }}' as time_zone,
    coalesce(hourly.attempts, 0) as attempts,
    coalesce(hourly.connects, 0) as connects,
    coalesce(hourly.attempts, 0) > 0 as dialled,
    case when hourly.attempts > 0 then cast(hourly.connects as double precision) / hourly.attempts end as answer_rate
from grid
left join hourly
    on hourly.campaign_id = grid.campaign_id and hourly.hour_local = grid.hour_local
left join {{ ref('stg_genesys__campaigns') }} as campaigns
    on campaigns.campaign_id = grid.campaign_id
