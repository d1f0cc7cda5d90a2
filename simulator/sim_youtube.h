/*  sim_youtube: the YouTube Analytics API v2 and the YouTube Data API v3
    list calls that Statsdash uses.

    GET /v2/reports runs reports.query (see sim_youtube_report). Its ids
    parameter picks the channels. "channel==MINE" (or the token's own
    "channel==UC...") is the channel that a user token is bound to.
    "contentOwner==OWNER" is every channel of the dataset when OWNER is the
    simulator's content owner (--youtube-content-owner), because every
    simulated user manages that owner. Other ids get 403.

    GET /youtube/v3/channels?part=statistics,snippet&id=A,B and GET
    /youtube/v3/videos?part=snippet&id=... return {"kind", "etag",
    "pageInfo", "items"} with items only for the ids the dataset has, in
    the order asked; at most 50 ids per call. Counts in statistics are
    strings, as the real API sends them. mine=true in place of id lists the
    token's own channel.

    Every call needs "Authorization: Bearer TOKEN": reports a token with
    the yt-analytics.readonly scope, the Data API one with youtube.readonly
    (or youtube). Each authorized call is charged 1 quota unit, counted in
    /stats under quota.youtube (the real APIs charge invalid requests
    too). The routes get the configured latency and --fail faults.
*/
#ifndef SIM_YOUTUBE_H
#define SIM_YOUTUBE_H

#include "sim_http.h"
#include "sim_oauth.h"
#include "sim_stats.h"
#include "sim_youtube_data.h"

typedef struct sim_youtube sim_youtube;

//  Creates the APIs over data, oauth and stats, which the caller keeps and
//  which must outlive them; content_owner is copied. Returns NULL when out
//  of memory.
sim_youtube *sim_youtube_new(const sim_youtube_data *data, sim_oauth *oauth, sim_stats *stats,
                             const char *content_owner);

void sim_youtube_destroy(sim_youtube **self_p);

//  Registers the API's routes on server. Returns 0 or -1.
int sim_youtube_register(sim_youtube *self, sim_server *server);

#endif
