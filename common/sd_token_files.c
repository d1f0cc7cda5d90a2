/*  sd_token_files: the start-up check of YouTube refresh token files.  */
#include "sd_token_files.h"

#include "sd_oauth_user.h"

//  Reads path the way a token source will, then frees the token.
static int s_check_one(const char *path, char *error, size_t error_size)
{
    char *token = sd_oauth_refresh_token_read(path, error, error_size);
    if (!token)
        return -1;
    sd_oauth_secret_free(token);
    return 0;
}

int sd_token_files_check(const sd_config *config, char *error, size_t error_size)
{
    const sd_config_youtube *youtube = &config->youtube;
    if (youtube->content_owner)
        return youtube->owner_refresh_token_file
                   ? s_check_one(youtube->owner_refresh_token_file, error, error_size)
                   : 0;
    for (size_t c = 0; c < youtube->channel_count; c++) {
        const sd_config_channel *channel = &youtube->channels[c];
        for (size_t i = 0; i < channel->id_count; i++) {
            const char *path = channel->ids[i].refresh_token_file;
            if (path && *path && s_check_one(path, error, error_size) != 0)
                return -1;
        }
    }
    return 0;
}
