/*  sd_catalog: the report types and their tables, as data.  */
#include "sd_catalog.h"

#include <stdio.h>
#include <string.h>

//  ---------------------------------------------------------------------
//  GA4 queries. Raw parts carry the API's additive metrics; ratios are
//  derived after summing over sites.

//  Totals over the whole site: the query behind the overview tables.
static const sd_query_def s_ga_totals = {
    .id = "ga-totals",
    .api = "ga4.runReport",
    .metrics = {"screenPageViews", "totalUsers", "sessions", "userEngagementDuration"},
    .params_json = "{}",
};

static const sd_query_def s_ga_countries = {
    .id = "ga-countries",
    .api = "ga4.runReport",
    .metrics = {"screenPageViews", "totalUsers", "sessions"},
    .dimensions = {"country"},
    .params_json = "{}",
};

//  Every page of the period. The API filter leaves out the blacklisted
//  paths it can express; the path_blacklist rule drops the rest.
static const sd_query_def s_ga_articles = {
    .id = "ga-articles",
    .api = "ga4.runReport",
    .metrics = {"screenPageViews"},
    .dimensions = {"pagePath", "pageTitle"},
    .params_json = "{}",
    .filters = {SD_FILTER_ARTICLE_PATHS},
};

static const sd_query_def s_ga_source_medium = {
    .id = "ga-source-medium",
    .api = "ga4.runReport",
    .metrics = {"screenPageViews", "totalUsers", "sessions"},
    .dimensions = {"sessionSourceMedium"},
    .params_json = "{}",
};

static const sd_query_def s_ga_referrers = {
    .id = "ga-referrers",
    .api = "ga4.runReport",
    .metrics = {"screenPageViews", "totalUsers", "sessions"},
    .dimensions = {"sessionSource"},
    .params_json = "{}",
    .filters = {SD_FILTER_SOURCE_BLACKLIST},
};

//  Second stage: the pages that the top referring sources sent visitors to.
static const sd_query_def s_ga_referrer_articles = {
    .id = "ga-referrer-articles",
    .api = "ga4.runReport",
    .metrics = {"screenPageViews"},
    .dimensions = {"sessionSource", "pagePath", "pageTitle"},
    .params_json = "{}",
    .filters = {SD_FILTER_PARENT_SOURCES, SD_FILTER_ARTICLE_PATHS},
};

static const sd_query_def s_ga_devices = {
    .id = "ga-devices",
    .api = "ga4.runReport",
    .metrics = {"screenPageViews", "totalUsers", "sessions"},
    .dimensions = {"deviceCategory"},
    .params_json = "{}",
};

static const sd_query_def s_ga_device_days = {
    .id = "ga-device-days",
    .api = "ga4.runReport",
    .metrics = {"totalUsers"},
    .dimensions = {"date", "deviceCategory"},
    .params_json = "{}",
};

//  Sessions from social networks. GA4 has no social network dimension:
//  the map_values rule turns each session source into its network.
static const sd_query_def s_ga_social = {
    .id = "ga-social",
    .api = "ga4.runReport",
    .metrics = {"screenPageViews", "totalUsers", "sessions"},
    .dimensions = {"sessionSource"},
    .params_json = "{}",
    .filters = {SD_FILTER_ORGANIC_SOCIAL},
};

//  Second stage: the pages the top social networks sent visitors to.
static const sd_query_def s_ga_social_articles = {
    .id = "ga-social-articles",
    .api = "ga4.runReport",
    .metrics = {"screenPageViews"},
    .dimensions = {"sessionSource", "pagePath", "pageTitle"},
    .params_json = "{}",
    .filters = {SD_FILTER_ORGANIC_SOCIAL, SD_FILTER_PARENT_NETWORKS, SD_FILTER_ARTICLE_PATHS},
};

static const sd_query_def s_ga_social_days = {
    .id = "ga-social-days",
    .api = "ga4.runReport",
    .metrics = {"screenPageViews", "totalUsers"},
    .dimensions = {"date"},
    .params_json = "{}",
    .filters = {SD_FILTER_ORGANIC_SOCIAL},
};

static const sd_query_def s_ga_social_source_days = {
    .id = "ga-social-source-days",
    .api = "ga4.runReport",
    .metrics = {"screenPageViews", "totalUsers", "sessions"},
    .dimensions = {"date", "sessionSource"},
    .params_json = "{}",
    .filters = {SD_FILTER_ORGANIC_SOCIAL},
};

//  ---------------------------------------------------------------------
//  Columns and rules shared by several tables.

//  Columns of the overview tables. Ratios are computed after summing over
//  sites, so they are weighted by sessions. Session time is in minutes.
#define SD_GA_CORE_METRICS                                                                         \
    {                                                                                              \
        {"pageviews", "Pageviews", "scale", "screenPageViews", "", 1.0, "count", 0, false},        \
        {"users", "Users", "scale", "totalUsers", "", 1.0, "count", 0, false},                     \
        {"sessions", "Sessions", "scale", "sessions", "", 1.0, "count", 0, false},                 \
        {"pv_per_session", "Pages per session", "ratio", "screenPageViews", "sessions", 1.0,       \
         "ratio", 2, false},                                                                       \
        {"avg_session_time", "Session time (min)", "ratio", "userEngagementDuration",             \
         "sessions", 1.0 / 60.0, "minutes", 2, false},                                             \
    }

#define SD_GA_CORE_SUM {"screenPageViews", "totalUsers", "sessions", "userEngagementDuration"}

#define SD_METRIC_PAGEVIEWS {"pageviews", "Pageviews", "scale", "screenPageViews", "", 1.0, "count", 0, false}
#define SD_METRIC_USERS {"users", "Users", "scale", "totalUsers", "", 1.0, "count", 0, false}
#define SD_METRIC_SESSIONS {"sessions", "Sessions", "scale", "sessions", "", 1.0, "count", 0, false}

#define SD_TRAFFIC_SUM {"screenPageViews", "totalUsers", "sessions"}
#define SD_TRAFFIC_METRICS {SD_METRIC_PAGEVIEWS, SD_METRIC_USERS, SD_METRIC_SESSIONS}

//  Article rows: the blacklist matches the path with its query string.
//  Then the query string is cut, titles are decoded and marked, and each
//  path keeps the title with the most pageviews.
#define SD_ARTICLE_RULES                                                                           \
    {                                                                                              \
        {"path_blacklist", {"pagePath"}, SD_RULE_ARGS_PATH_PATTERNS},                              \
        {"strip_query", {"pagePath"}, SD_RULE_ARGS_FIXED},                                         \
        {"decode_entities", {"pageTitle"}, SD_RULE_ARGS_FIXED},                                    \
        {"amp_title", {"pagePath", "pageTitle"}, SD_RULE_ARGS_FIXED},                              \
        {"top_title", {"pagePath", "pageTitle", "screenPageViews"}, SD_RULE_ARGS_FIXED},           \
    }

#define SD_SOCIAL_ARTICLE_RULES                                                                    \
    {                                                                                              \
        {"map_values", {"sessionSource"}, SD_RULE_ARGS_SOCIAL_MAP},                                \
        {"path_blacklist", {"pagePath"}, SD_RULE_ARGS_PATH_PATTERNS},                              \
        {"strip_query", {"pagePath"}, SD_RULE_ARGS_FIXED},                                         \
        {"decode_entities", {"pageTitle"}, SD_RULE_ARGS_FIXED},                                    \
        {"amp_title", {"pagePath", "pageTitle"}, SD_RULE_ARGS_FIXED},                              \
        {"top_title", {"pagePath", "pageTitle", "screenPageViews"}, SD_RULE_ARGS_FIXED},           \
    }

#define SD_SOCIAL_MAP_RULE {{"map_values", {"sessionSource"}, SD_RULE_ARGS_SOCIAL_MAP}}

#define SD_ARTICLE_KEYS {"site", "Site", NULL}, {"pagePath", "Path", NULL}, {"pageTitle", "Title", NULL}

//  ---------------------------------------------------------------------
//  Overview tables.

static const sd_table_def s_summary = {
    .name = "summary",
    .title = "Overview",
    .layout = SD_LAYOUT_OVERVIEW,
    .query = &s_ga_totals,
    .sum = SD_GA_CORE_SUM,
    .metrics = SD_GA_CORE_METRICS,
    .compare = {"previous", "yearly"},
};

//  The same figures over every configured site, for a report on some.
static const sd_table_def s_network_summary = {
    .name = "network_summary",
    .title = "Network overview",
    .layout = SD_LAYOUT_OVERVIEW,
    .query = &s_ga_totals,
    .sum = SD_GA_CORE_SUM,
    .metrics = SD_GA_CORE_METRICS,
    .compare = {"previous", "yearly"},
    .scope = SD_SCOPE_NETWORK,
    .when = SD_WHEN_SOME_SITES,
};

//  The month so far against the same dates a year earlier. Its "previous"
//  period is the whole of that month a year earlier, so that the reporter
//  can add the pageviews still needed to match it.
static const sd_table_def s_month_to_date = {
    .name = "month_to_date",
    .title = "Month to date",
    .layout = SD_LAYOUT_OVERVIEW,
    .query = &s_ga_totals,
    .sum = SD_TRAFFIC_SUM,
    .metrics = {SD_METRIC_PAGEVIEWS, SD_METRIC_USERS, SD_METRIC_SESSIONS,
                {"days_left", "Days left", "", "", "", 1.0, "count", 0, true},
                {"pageviews_needed", "Pageviews needed", "", "", "", 1.0, "count", 0, true},
                {"pageviews_needed_per_day", "Needed per day", "", "", "", 1.0, "count", 0, true}},
    .compare = {"previous", "yearly"},
    .compare_titles = {"Whole month last year", "YoY"},
    .when = SD_WHEN_NOT_MONTHLY,
    .periods = SD_PERIODS_MONTH_TO_DATE,
    .finish = SD_FINISH_MONTH_TARGET,
};

static const sd_table_def s_site_summary = {
    .name = "site_summary",
    .title = "Sites",
    .layout = SD_LAYOUT_RANKED,
    .query = &s_ga_totals,
    .keys = {{"site", "Site", NULL}},
    .sum = SD_GA_CORE_SUM,
    .metrics = SD_GA_CORE_METRICS,
    .sort_column = "users",
    .sort_descending = true,
    .compare = {"previous", "yearly"},
};

//  ---------------------------------------------------------------------
//  Audience tables.

//  Countries outside ga.countries are merged into "Rest of World".
static const sd_table_def s_country = {
    .name = "country",
    .title = "Countries",
    .layout = SD_LAYOUT_RANKED,
    .query = &s_ga_countries,
    .keys = {{"country", "Country", NULL}},
    .sum = SD_TRAFFIC_SUM,
    .metrics = {SD_METRIC_PAGEVIEWS, SD_METRIC_USERS, SD_METRIC_SESSIONS,
                {"pv_per_visitor", "Pages per visitor", "ratio", "screenPageViews", "totalUsers",
                 1.0, "ratio", 2, false}},
    .sort_column = "users",
    .sort_descending = true,
    .compare = {"previous", "yearly"},
    .rules = {{"rest_of_world", {"country"}, SD_RULE_ARGS_COUNTRIES}},
};

static const sd_table_def s_devices = {
    .name = "devices",
    .title = "Devices",
    .layout = SD_LAYOUT_RANKED,
    .query = &s_ga_devices,
    .keys = {{"deviceCategory", "Device", "device"}},
    .sum = SD_TRAFFIC_SUM,
    .metrics = {SD_METRIC_USERS,
                {"share_of_users", "Share of users (%)", "share", "totalUsers", "", 1.0, "percent",
                 1, false},
                SD_METRIC_PAGEVIEWS, SD_METRIC_SESSIONS},
    .sort_column = "users",
    .sort_descending = true,
    .limit = 6,
    .compare = {"previous", "yearly"},
};

//  Users by device per month over a year, for the device share chart.
static const sd_table_def s_device_months = {
    .name = "device_months",
    .title = "Device share by month",
    .layout = SD_LAYOUT_RANKED,
    .query = &s_ga_device_days,
    .keys = {{"date", "Month", "month"}, {"deviceCategory", "Device", "device"}},
    .sum = {"totalUsers"},
    .metrics = {SD_METRIC_USERS,
                {"share_of_users", "Share of users (%)", "share", "totalUsers", "", 1.0, "percent",
                 1, false}},
    .sort_column = "date",
    .when = SD_WHEN_MONTHLY,
    .periods = SD_PERIODS_MONTHS_12,
    .finish = SD_FINISH_MONTHS,
};

//  ---------------------------------------------------------------------
//  Content and traffic tables.

static const sd_table_def s_top_articles = {
    .name = "top_articles",
    .title = "Top articles",
    .layout = SD_LAYOUT_RANKED,
    .query = &s_ga_articles,
    .keys = {SD_ARTICLE_KEYS},
    .sum = {"screenPageViews"},
    .metrics = {SD_METRIC_PAGEVIEWS},
    .sort_column = "pageviews",
    .sort_descending = true,
    .limit = 20,
    .compare = {"previous"},
    .rules = SD_ARTICLE_RULES,
    .periods = SD_PERIODS_ARTICLES,
};

static const sd_table_def s_traffic_sources = {
    .name = "traffic_sources",
    .title = "Traffic sources",
    .layout = SD_LAYOUT_RANKED,
    .query = &s_ga_source_medium,
    .keys = {{"sessionSourceMedium", "Source / medium", "source_medium"}},
    .sum = SD_TRAFFIC_SUM,
    .metrics = SD_TRAFFIC_METRICS,
    .sort_column = "users",
    .sort_descending = true,
    .limit = 10,
    .compare = {"previous", "yearly"},
};

static const sd_table_def s_referring_sites = {
    .name = "referring_sites",
    .title = "Referring sites",
    .layout = SD_LAYOUT_RANKED,
    .query = &s_ga_referrers,
    .keys = {{"sessionSource", "Source", "source"}},
    .sum = SD_TRAFFIC_SUM,
    .metrics = SD_TRAFFIC_METRICS,
    .sort_column = "users",
    .sort_descending = true,
    .limit = 5,
    .compare = {"previous", "yearly"},
};

static const sd_table_def s_referring_articles = {
    .name = "referring_articles",
    .title = "Top articles per referring site",
    .layout = SD_LAYOUT_RANKED,
    .query = &s_ga_referrer_articles,
    .keys = {{"sessionSource", "Source", "source"}, SD_ARTICLE_KEYS},
    .sum = {"screenPageViews"},
    .metrics = {SD_METRIC_PAGEVIEWS},
    .sort_column = "pageviews",
    .sort_descending = true,
    .compare = {"previous"},
    .rules = SD_ARTICLE_RULES,
    .periods = SD_PERIODS_ARTICLES,
    .parent = "referring_sites",
    .parent_key = "sessionSource",
    .finish = SD_FINISH_PER_PARENT,
    .group_key = "sessionSource",
    .group_limit = 1,
    .group_limit_monthly = 5,
};

//  ---------------------------------------------------------------------
//  Social tables.

#define SD_SOCIAL_NETWORK_METRICS                                                                  \
    {                                                                                              \
        SD_METRIC_PAGEVIEWS, SD_METRIC_USERS, SD_METRIC_SESSIONS,                                  \
        {"share_of_social_users", "Share of social users (%)", "share", "totalUsers", "", 1.0,     \
         "percent", 1, false},                                                                     \
        {"share_of_all_users", "Share of all users (%)", "", "", "", 1.0, "percent", 1, true},     \
    }

//  The top 15 networks. share_of_all_users divides by the users of the
//  report's summary table.
static const sd_table_def s_social_networks = {
    .name = "social_networks",
    .title = "Social networks",
    .layout = SD_LAYOUT_RANKED,
    .query = &s_ga_social,
    .keys = {{"sessionSource", "Network", "network"}},
    .sum = SD_TRAFFIC_SUM,
    .metrics = SD_SOCIAL_NETWORK_METRICS,
    .sort_column = "users",
    .sort_descending = true,
    .limit = 15,
    .shown = 5,
    .compare = {"previous", "yearly"},
    .rules = SD_SOCIAL_MAP_RULE,
    .finish = SD_FINISH_SHARE_OF_ALL,
};

static const sd_table_def s_social_articles = {
    .name = "social_articles",
    .title = "Top articles per social network",
    .layout = SD_LAYOUT_RANKED,
    .query = &s_ga_social_articles,
    .keys = {{"sessionSource", "Network", "network"}, SD_ARTICLE_KEYS},
    .sum = {"screenPageViews"},
    .metrics = {SD_METRIC_PAGEVIEWS},
    .sort_column = "pageviews",
    .sort_descending = true,
    .compare = {"previous"},
    .rules = SD_SOCIAL_ARTICLE_RULES,
    .periods = SD_PERIODS_ARTICLES,
    .parent = "social_networks",
    .parent_key = "sessionSource",
    .parent_rows = 5,
    .finish = SD_FINISH_PER_PARENT,
    .group_key = "sessionSource",
    .group_limit = 1,
    .group_limit_monthly = 5,
};

//  ga-social shows every one of the 15 networks with 10 articles each.
static const sd_table_def s_social_report_networks = {
    .name = "social_networks",
    .title = "Social networks",
    .layout = SD_LAYOUT_RANKED,
    .query = &s_ga_social,
    .keys = {{"sessionSource", "Network", "network"}},
    .sum = SD_TRAFFIC_SUM,
    .metrics = SD_SOCIAL_NETWORK_METRICS,
    .sort_column = "users",
    .sort_descending = true,
    .limit = 15,
    .compare = {"previous", "yearly"},
    .rules = SD_SOCIAL_MAP_RULE,
    .finish = SD_FINISH_SHARE_OF_ALL,
};

static const sd_table_def s_social_report_articles = {
    .name = "social_articles",
    .title = "Top articles per social network",
    .layout = SD_LAYOUT_RANKED,
    .query = &s_ga_social_articles,
    .keys = {{"sessionSource", "Network", "network"}, SD_ARTICLE_KEYS},
    .sum = {"screenPageViews"},
    .metrics = {SD_METRIC_PAGEVIEWS},
    .sort_column = "pageviews",
    .sort_descending = true,
    .compare = {"previous"},
    .rules = SD_SOCIAL_ARTICLE_RULES,
    .periods = SD_PERIODS_ARTICLES,
    .parent = "social_networks",
    .parent_key = "sessionSource",
    .finish = SD_FINISH_PER_PARENT,
    .group_key = "sessionSource",
    .group_limit = 10,
};

//  Social pageviews and users per day of the period, for the chart. The
//  series counts every Organic Social session, mapped to a network or not.
static const sd_table_def s_social_days = {
    .name = "social_days",
    .title = "Social traffic by day",
    .layout = SD_LAYOUT_RANKED,
    .query = &s_ga_social_days,
    .keys = {{"date", "Date", NULL}},
    .sum = {"screenPageViews", "totalUsers"},
    .metrics = {SD_METRIC_PAGEVIEWS, SD_METRIC_USERS},
    .sort_column = "date",
};

static const sd_table_def s_network_social_days = {
    .name = "network_social_days",
    .title = "Network social traffic by day",
    .layout = SD_LAYOUT_RANKED,
    .query = &s_ga_social_days,
    .keys = {{"date", "Date", NULL}},
    .sum = {"screenPageViews", "totalUsers"},
    .metrics = {SD_METRIC_PAGEVIEWS, SD_METRIC_USERS},
    .sort_column = "date",
    .scope = SD_SCOPE_NETWORK,
    .when = SD_WHEN_SOME_SITES,
};

//  The leading networks month by month over three years.
static const sd_table_def s_year_social = {
    .name = "social_months",
    .title = "Social networks by month",
    .layout = SD_LAYOUT_RANKED,
    .query = &s_ga_social_source_days,
    .keys = {{"sessionSource", "Network", "network"}, {"date", "Month", "month"}},
    .sum = SD_TRAFFIC_SUM,
    .metrics = SD_TRAFFIC_METRICS,
    .rules = SD_SOCIAL_MAP_RULE,
    .periods = SD_PERIODS_MONTHS_36,
    .finish = SD_FINISH_TOP_NETWORK_MONTHS,
};

//  Every network's pageviews and sessions per month over a year.
static const sd_table_def s_social_export = {
    .name = "social_export",
    .title = "Social networks by month",
    .layout = SD_LAYOUT_RANKED,
    .query = &s_ga_social_source_days,
    .keys = {{"sessionSource", "Network", "network"}, {"date", "Month", "month"}},
    .sum = {"screenPageViews", "sessions"},
    .metrics = {SD_METRIC_PAGEVIEWS, SD_METRIC_SESSIONS},
    .rules = SD_SOCIAL_MAP_RULE,
    .periods = SD_PERIODS_MONTHS_12,
    .finish = SD_FINISH_MONTHS,
};

//  ---------------------------------------------------------------------
//  YouTube tables, in the query shape statsdash-worker-youtube runs.
//  "youtube.reports" takes Analytics metric and dimension names. Its
//  params_json may set "sort" and "filters", and limit is maxResults for
//  queries by video (1 to 200). "youtube.channels" takes the metric
//  subscriberCount alone and returns each channel's count at the end of
//  each period. "youtube.videos" returns the title of each video id of
//  params_json "ids" from videos.list.

static const sd_query_def s_yt_channels = {
    .id = "yt-channels",
    .api = "youtube.reports",
    .metrics = {"views", "estimatedMinutesWatched", "subscribersGained", "subscribersLost",
                "likes", "dislikes", "comments", "shares"},
    .params_json = "{}",
};

static const sd_query_def s_yt_subscribers = {
    .id = "yt-subscribers",
    .api = "youtube.channels",
    .metrics = {"subscriberCount"},
    .params_json = "{}",
};

static const sd_query_def s_yt_countries = {
    .id = "yt-countries",
    .api = "youtube.reports",
    .metrics = {"views", "estimatedMinutesWatched", "subscribersGained", "subscribersLost"},
    .dimensions = {"country"},
    .params_json = "{}",
};

//  A video belongs to one channel id, so the top 10 of each id include
//  the top 10 of the roll-up.
static const sd_query_def s_yt_videos = {
    .id = "yt-videos",
    .api = "youtube.reports",
    .metrics = {"estimatedMinutesWatched", "views"},
    .dimensions = {"video"},
    .params_json = "{\"sort\": \"-estimatedMinutesWatched\"}",
    .limit = 10,
};

//  The titles of the videos the top videos table shows: one videos.list
//  call per 50 of them for the whole report.
static const sd_query_def s_yt_titles = {
    .id = "yt-video-titles",
    .api = "youtube.videos",
    .dimensions = {"video", "title"},
    .params_json = "{}",
    .filters = {SD_FILTER_PARENT_IDS},
};

static const sd_query_def s_yt_sources = {
    .id = "yt-traffic-sources",
    .api = "youtube.reports",
    .metrics = {"estimatedMinutesWatched"},
    .dimensions = {"insightTrafficSourceType"},
    .params_json = "{}",
};

#define SD_YT_WATCH_TIME                                                                           \
    {"watch_time", "Watch time (min)", "scale", "estimatedMinutesWatched", "", 1.0, "minutes", 0,  \
     false}
#define SD_YT_VIEWS {"views", "Views", "scale", "views", "", 1.0, "count", 0, false}
#define SD_YT_SUBSCRIBER_CHANGE                                                                    \
    {"subscriber_change", "Subscriber change", "difference", "subscribersGained",                 \
     "subscribersLost", 1.0, "count", 0, false}

//  Watch time and subscriber change per channel; the totals row is the
//  whole of the channels.
static const sd_table_def s_yt_channel_summary = {
    .name = "channel_summary",
    .title = "Channels",
    .layout = SD_LAYOUT_RANKED,
    .query = &s_yt_channels,
    .keys = {{"site", "Channel", "channel"}},
    .sum = {"estimatedMinutesWatched", "subscribersGained", "subscribersLost"},
    .metrics = {SD_YT_WATCH_TIME, SD_YT_SUBSCRIBER_CHANGE},
    .sort_column = "watch_time",
    .sort_descending = true,
    .compare = {"previous", "yearly"},
};

//  Subscriber counts at the end of each period (today's count minus the
//  change since the period ended, computed by the worker).
static const sd_table_def s_yt_channel_subscribers = {
    .name = "channel_subscribers",
    .title = "Subscribers",
    .layout = SD_LAYOUT_RANKED,
    .query = &s_yt_subscribers,
    .keys = {{"site", "Channel", "channel"}},
    .sum = {"subscriberCount"},
    .metrics = {{"subscribers", "Subscribers", "scale", "subscriberCount", "", 1.0, "count", 0,
                 false}},
    .sort_column = "subscribers",
    .sort_descending = true,
    .compare = {"previous", "yearly"},
};

#define SD_YT_PER_1000(name, label, metric)                                                        \
    {name, label, "ratio", metric, "views", 1000.0, "ratio", 2, false}

static const sd_table_def s_yt_channel_stats = {
    .name = "channel_stats",
    .title = "Channel stats",
    .layout = SD_LAYOUT_RANKED,
    .query = &s_yt_channels,
    .keys = {{"site", "Channel", "channel"}},
    .sum = {"views", "likes", "dislikes", "subscribersGained", "comments", "shares"},
    .metrics = {SD_YT_VIEWS,
                {"like_dislike_ratio", "Likes:dislikes", "ratio", "likes", "dislikes", 1.0,
                 "ratio", 2, false, 2},
                SD_YT_PER_1000("likes_per_1000", "Likes / 1000 views", "likes"),
                SD_YT_PER_1000("subscribers_per_1000", "Subscribers / 1000 views",
                               "subscribersGained"),
                SD_YT_PER_1000("comments_per_1000", "Comments / 1000 views", "comments"),
                SD_YT_PER_1000("shares_per_1000", "Shares / 1000 views", "shares")},
    .sort_column = "views",
    .sort_descending = true,
    .compare = {"previous", "yearly"},
};

static const sd_table_def s_yt_country = {
    .name = "country",
    .title = "Countries",
    .layout = SD_LAYOUT_RANKED,
    .query = &s_yt_countries,
    .keys = {{"country", "Country", NULL}},
    .sum = {"views", "estimatedMinutesWatched", "subscribersGained", "subscribersLost"},
    .metrics = {SD_YT_VIEWS, SD_YT_WATCH_TIME, SD_YT_SUBSCRIBER_CHANGE},
    .sort_column = "watch_time",
    .sort_descending = true,
    .limit = 20,
    .compare = {"previous", "yearly"},
};

static const sd_table_def s_yt_top_videos = {
    .name = "top_videos",
    .title = "Top videos",
    .layout = SD_LAYOUT_RANKED,
    .query = &s_yt_videos,
    .keys = {{"site", "Channel", "channel"},
             {"video", "Video", NULL},
             {"title", "Title", NULL, true}},
    .sum = {"estimatedMinutesWatched", "views"},
    .metrics = {SD_YT_WATCH_TIME, SD_YT_VIEWS},
    .sort_column = "watch_time",
    .sort_descending = true,
    .limit = 10,
    .finish = SD_FINISH_LOOKUP,
    .lookup_table = "video_titles",
    .lookup_key = "video",
    .lookup_column = "title",
};

//  Video id -> title of the top videos, planned once top_videos arrived.
//  videos.list returns public and unlisted videos to any authorized
//  caller, so the first channel's token reads the titles of every channel.
//  NOTE: in channel==MINE mode, a private video of another channel is not
//  returned to that token and shows as "Video not found".
static const sd_table_def s_yt_video_titles = {
    .name = "video_titles",
    .title = "Video titles",
    .layout = SD_LAYOUT_RANKED,
    .query = &s_yt_titles,
    .keys = {{"video", "Video", NULL}, {"title", "Title", NULL}},
    .scope = SD_SCOPE_FIRST_SITE,
    .parent = "top_videos",
    .parent_key = "video",
    .hidden = true,
};

//  One row per channel with the share of its watch time from each source
//  type (share_<type> columns, sources ordered by their total watch time).
static const sd_table_def s_yt_traffic_sources = {
    .name = "traffic_sources",
    .title = "Traffic sources (share of watch time)",
    .layout = SD_LAYOUT_RANKED,
    .query = &s_yt_sources,
    .keys = {{"site", "Channel", "channel"}, {"insightTrafficSourceType", "Source", NULL}},
    .sum = {"estimatedMinutesWatched"},
    .metrics = {SD_YT_WATCH_TIME},
    .sort_column = "watch_time",
    .sort_descending = true,
    .rules = {{"share_matrix", {"site", "insightTrafficSourceType", "estimatedMinutesWatched"},
               SD_RULE_ARGS_FIXED}},
};

//  ---------------------------------------------------------------------
//  Report types.

static const sd_report_def s_reports[] = {
    {.name = "ga-core",
     .service = "ga",
     .tables = {&s_summary, &s_network_summary, &s_month_to_date, &s_site_summary, &s_country,
                &s_top_articles, &s_traffic_sources, &s_referring_sites, &s_referring_articles,
                &s_devices, &s_device_months, &s_social_networks, &s_social_articles}},
    {.name = "ga-social",
     .service = "ga",
     .tables = {&s_summary, &s_network_summary, &s_social_report_networks,
                &s_social_report_articles, &s_social_days, &s_network_social_days}},
    {.name = "ga-year-social", .service = "ga", .tables = {&s_year_social}},
    {.name = "ga-social-export",
     .service = "ga",
     .tables = {&s_social_export},
     .csv_single_table = true},
    {.name = "youtube",
     .service = "youtube",
     .tables = {&s_yt_channel_summary, &s_yt_channel_subscribers, &s_yt_channel_stats,
                &s_yt_country, &s_yt_top_videos, &s_yt_video_titles, &s_yt_traffic_sources}},
};

static const char *const s_known[] = {"ga-core", "ga-social", "ga-year-social",
                                      "ga-social-export", "youtube"};

const sd_report_def *sd_catalog_find(const char *report)
{
    for (size_t i = 0; report && i < sizeof s_reports / sizeof s_reports[0]; i++) {
        if (strcmp(s_reports[i].name, report) == 0)
            return &s_reports[i];
    }
    return NULL;
}

bool sd_catalog_is_known(const char *report)
{
    for (size_t i = 0; report && i < sizeof s_known / sizeof s_known[0]; i++) {
        if (strcmp(s_known[i], report) == 0)
            return true;
    }
    return false;
}

const char *sd_catalog_list(char *buffer, size_t size)
{
    size_t used = 0;
    buffer[0] = '\0';
    for (size_t i = 0; i < sizeof s_reports / sizeof s_reports[0] && used < size; i++) {
        int written = snprintf(buffer + used, size - used, "%s%s", i ? ", " : "",
                               s_reports[i].name);
        if (written < 0)
            break;
        used += (size_t)written;
    }
    return buffer;
}

size_t sd_table_def_key_count(const sd_table_def *table)
{
    size_t count = 0;
    while (count < sizeof table->keys / sizeof table->keys[0] && table->keys[count].name)
        count++;
    return count;
}

size_t sd_table_def_metric_count(const sd_table_def *table)
{
    size_t count = 0;
    while (count < SD_CATALOG_MAX_ITEMS && table->metrics[count].name)
        count++;
    return count;
}

size_t sd_table_def_compare_count(const sd_table_def *table)
{
    size_t count = 0;
    while (count < sizeof table->compare / sizeof table->compare[0] && table->compare[count])
        count++;
    return count;
}

size_t sd_table_def_rule_count(const sd_table_def *table)
{
    size_t count = 0;
    while (count < SD_CATALOG_MAX_RULES && table->rules[count].name)
        count++;
    return count;
}

const sd_metric_def *sd_table_def_metric(const sd_table_def *table, const char *name)
{
    size_t count = sd_table_def_metric_count(table);
    for (size_t i = 0; i < count; i++) {
        if (strcmp(table->metrics[i].name, name) == 0)
            return &table->metrics[i];
    }
    return NULL;
}

const char *sd_key_def_column(const sd_key_def *key)
{
    return key->output ? key->output : key->name;
}
